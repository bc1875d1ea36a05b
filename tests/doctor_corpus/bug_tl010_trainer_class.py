# expect: TL010
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class Trainer:
    def __init__(self, model, train_ds, val_ds, batch_size=32, lr=1e-3, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.train_loader = DataLoader(train_ds, batch_size=batch_size, num_workers=4, pin_memory=True, drop_last=True)
        self.val_loader = DataLoader(val_ds, batch_size=batch_size * 2, num_workers=4)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()

    def train_epoch(self, epoch):
        self.model.train()
        total = 0.0
        for step, (x, y) in enumerate(self.train_loader):
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: train loss {total / len(self.train_loader):.4f}")

    def validate(self):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in self.val_loader:
                x, y = x.to(self.device), y.to(self.device)
                correct += (self.model(x).argmax(1) == y).sum().item()
        return correct / len(self.val_loader.dataset)

    def fit(self, epochs):
        for epoch in range(epochs):
            self.train_epoch(epoch)
            print(f"  val acc {self.validate():.4f}")
