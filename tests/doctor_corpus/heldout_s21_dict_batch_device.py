# expect: TL006
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
import transformers
from transformers import AutoTokenizer


class QADataset(Dataset):
    def __init__(self, rows, tok, max_len=384):
        self.enc = tok([r["question"] for r in rows], [r["context"] for r in rows], truncation="only_second",
                       max_length=max_len, padding="max_length", return_tensors="pt")
        self.start = torch.tensor([r["start"] for r in rows])
        self.end = torch.tensor([r["end"] for r in rows])

    def __len__(self):
        return len(self.start)

    def __getitem__(self, i):
        return {"input_ids": self.enc["input_ids"][i], "attention_mask": self.enc["attention_mask"][i],
                "start_positions": self.start[i], "end_positions": self.end[i]}


def train(rows_train, epochs=2, lr=3e-5):
    tok = AutoTokenizer.from_pretrained("roberta-base")
    model = transformers.AutoModelForQuestionAnswering.from_pretrained("roberta-base")
    model.cuda()
    loader = DataLoader(QADataset(rows_train, tok), batch_size=12, shuffle=True)
    optim = torch.optim.AdamW(model.parameters(), lr=lr)
    ce = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        for it, batch in enumerate(loader):
            optim.zero_grad()
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            start_loss = ce(out.start_logits, batch["start_positions"].cuda())
            end_loss = ce(out.end_logits, batch["end_positions"].cuda())
            loss = (start_loss + end_loss) / 2
            loss.backward()
            optim.step()
            if it % 50 == 0:
                print(f"epoch {epoch} it {it} loss {loss.item():.4f}")
    model.save_pretrained("qa-roberta")
    tok.save_pretrained("qa-roberta")
    return model
