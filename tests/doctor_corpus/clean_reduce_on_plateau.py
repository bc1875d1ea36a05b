# expect: none
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader


class Trainer:
    def __init__(self, model, train_ds, val_ds, device):
        self.model = model.to(device)
        self.device = device
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.scheduler = ReduceLROnPlateau(self.optimizer, mode="min", factor=0.5, patience=3)
        self.criterion = nn.MSELoss()
        self.train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
        self.val_loader = DataLoader(val_ds, batch_size=256, shuffle=False)

    def fit(self, epochs):
        for epoch in range(epochs):
            self.train_epoch()
            val_loss = self.validate()
            self.scheduler.step(val_loss)
            print(f"epoch {epoch}: val {val_loss:.4f} lr {self.optimizer.param_groups[0]['lr']:.2e}")

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            x, y = x.to(self.device), y.to(self.device)
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    def validate(self):
        self.model.eval()
        total = 0.0
        with torch.no_grad():
            for x, y in self.val_loader:
                x, y = x.to(self.device), y.to(self.device)
                total += self.criterion(self.model(x), y).item() * len(x)
        return total / len(self.val_loader.dataset)
