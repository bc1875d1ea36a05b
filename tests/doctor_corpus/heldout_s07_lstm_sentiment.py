# expect: TL002
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

DEVICE = torch.device("cuda")


class ReviewDataset(Dataset):
    def __init__(self, encodings, labels):
        self.encodings, self.labels = encodings, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return torch.tensor(self.encodings[i]), torch.tensor(self.labels[i])


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=128, hidden=256, n_classes=3, dropout=0.3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=2, batch_first=True, bidirectional=True, dropout=dropout)
        self.head = nn.Linear(hidden * 2, n_classes)

    def forward(self, x):
        emb = self.embed(x)
        out, (h, c) = self.lstm(emb)
        feat = torch.cat([h[-2], h[-1]], dim=1)
        logits = self.head(feat)
        return torch.softmax(logits, dim=1)


def train_model(train_enc, train_lab, val_enc, val_lab, vocab_size, epochs=5):
    train_dl = DataLoader(ReviewDataset(train_enc, train_lab), batch_size=64, shuffle=True)
    val_dl = DataLoader(ReviewDataset(val_enc, val_lab), batch_size=128)
    model = SentimentLSTM(vocab_size).to(DEVICE)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(epochs):
        model.train()
        pbar = tqdm(train_dl, desc=f"epoch {epoch}")
        for x, y in pbar:
            x, y = x.to(DEVICE), y.to(DEVICE)
            optimizer.zero_grad()
            probs = model(x)
            loss = criterion(probs, y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            pbar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val_dl:
                x, y = x.to(DEVICE), y.to(DEVICE)
                correct += (model(x).argmax(1) == y).sum().item()
                total += y.numel()
        print(f"val acc {correct / total:.4f}")
    return model
