# expect: TL008
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils.data import DataLoader


class Trainer:
    def __init__(self, model, train_ds, val_ds, epochs=50, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.epochs = epochs
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        self.scheduler = CosineAnnealingLR(self.optimizer, T_max=epochs)
        self.train_loader = DataLoader(train_ds, batch_size=128, shuffle=True)
        self.val_loader = DataLoader(val_ds, batch_size=256)

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            x, y = x.to(self.device), y.to(self.device)
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        correct = 0
        for x, y in self.val_loader:
            x, y = x.to(self.device), y.to(self.device)
            correct += (self.model(x).argmax(1) == y).sum().item()
        return correct / len(self.val_loader.dataset)

    def fit(self):
        for epoch in range(self.epochs):
            self.scheduler.step()
            self.train_epoch()
            acc = self.validate()
            print(f"epoch {epoch}: lr {self.scheduler.get_last_lr()[0]:.5f} acc {acc:.4f}")
