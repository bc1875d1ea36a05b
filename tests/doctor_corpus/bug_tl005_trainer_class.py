# expect: TL005
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class SegTrainer:
    def __init__(self, model, train_ds, val_ds, num_classes, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.num_classes = num_classes
        self.criterion = nn.CrossEntropyLoss(ignore_index=255)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        self.train_loader = DataLoader(train_ds, batch_size=8, shuffle=True, num_workers=4)
        self.val_loader = DataLoader(val_ds, batch_size=8, num_workers=4)

    def train_epoch(self):
        self.model.train()
        running = 0.0
        for batch in self.train_loader:
            image = batch["image"].to(self.device)
            mask = batch["mask"].to(self.device)
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(image), mask)
            loss.backward()
            self.optimizer.step()
            running += loss.item()
        return running / len(self.train_loader)

    def validate(self):
        self.model.eval()
        inter = torch.zeros(self.num_classes)
        union = torch.zeros(self.num_classes)
        for batch in self.val_loader:
            image = batch["image"].to(self.device)
            mask = batch["mask"].to(self.device)
            pred = self.model(image).argmax(1)
            for c in range(self.num_classes):
                p, t = pred == c, mask == c
                inter[c] += (p & t).sum().item()
                union[c] += (p | t).sum().item()
        return (inter / union.clamp(min=1)).mean().item()

    def fit(self, epochs):
        for epoch in range(epochs):
            loss = self.train_epoch()
            miou = self.validate()
            print(f"epoch {epoch}: loss {loss:.4f} mIoU {miou:.4f}")
