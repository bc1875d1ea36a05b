# expect: TL003
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, emb_dim=100, hidden=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.head(h[-1])


class Trainer:
    def __init__(self, model, train_ds, val_ds, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.loss_fn = nn.BCELoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
        self.val_loader = DataLoader(val_ds, batch_size=64, shuffle=False)

    def step(self, x, y):
        self.optimizer.zero_grad()
        out = self.model(x).squeeze(-1)
        loss = self.loss_fn(out, y.float())
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def train_epoch(self):
        self.model.train()
        losses = []
        for x, y in self.train_loader:
            losses.append(self.step(x.to(self.device), y.to(self.device)))
        return sum(losses) / len(losses)

    def validate(self):
        self.model.eval()
        total = 0.0
        with torch.no_grad():
            for x, y in self.val_loader:
                x, y = x.to(self.device), y.to(self.device)
                total += self.loss_fn(self.model(x).squeeze(-1), y.float()).item()
        return total / len(self.val_loader)

    def fit(self, epochs):
        for epoch in range(epochs):
            tr = self.train_epoch()
            va = self.validate()
            print(f"epoch {epoch}: train {tr:.4f} val {va:.4f}")
