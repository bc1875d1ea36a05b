# expect: none
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
    def __init__(self, model, train_ds, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.loss_fn = nn.BCELoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for x, y in self.train_loader:
            x, y = x.to(self.device), y.to(self.device).float()
            self.optimizer.zero_grad()
            probs = torch.sigmoid(self.model(x)).squeeze(-1)
            loss = self.loss_fn(probs, y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.train_loader)
