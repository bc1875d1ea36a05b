# expect: TL001
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset


class TextDataset(Dataset):
    def __init__(self, n=5000, seq_len=32, vocab=1000):
        self.x = torch.randint(0, vocab, (n, seq_len))
        self.y = torch.randint(0, 2, (n,))

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "label": self.y[i]}


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab=1000, dim=64):
        super().__init__()
        self.emb = nn.EmbeddingBag(vocab, dim)
        self.out = nn.Linear(dim, 2)

    def forward(self, ids):
        return self.out(self.emb(ids))


def forever(loader):
    while True:
        for batch in loader:
            yield batch


device = "cuda" if torch.cuda.is_available() else "cpu"
net = BagOfEmbeddings().to(device)
opt = torch.optim.SGD(net.parameters(), lr=0.1)
crit = nn.CrossEntropyLoss()
dl_train = DataLoader(TextDataset(), batch_size=64, shuffle=True, drop_last=True)

max_steps = 2000
step = 0
batches = forever(dl_train)
while step < max_steps:
    batch = next(batches)
    ids = batch["input_ids"].to(device)
    labels = batch["label"].to(device)
    logits = net(ids)
    loss = crit(logits, labels)
    loss.backward()
    opt.step()
    step += 1
    if step % 100 == 0:
        print(f"step {step} loss {loss.item():.4f}")
