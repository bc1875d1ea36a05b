# expect: TL007
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class RegressionTrainer:
    def __init__(self, model, train_ds, val_ds, lr=1e-3, device="cpu"):
        self.model = model.to(device)
        self.device = device
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)
        self.crit = nn.SmoothL1Loss()
        self.dl_train = DataLoader(train_ds, batch_size=64, shuffle=True)
        self.dl_val = DataLoader(val_ds, batch_size=256, shuffle=False)
        self.history = {"train": [], "val": []}

    def train_epoch(self):
        self.model.train()
        running = 0.0
        for features, target in self.dl_train:
            features, target = features.to(self.device), target.to(self.device)
            pred = self.model(features)
            loss = self.crit(pred, target)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            running = running + loss
        return running.item() / len(self.dl_train)

    def validate(self):
        self.model.eval()
        running = 0.0
        with torch.no_grad():
            for features, target in self.dl_val:
                features, target = features.to(self.device), target.to(self.device)
                running += self.crit(self.model(features), target).item()
        return running / len(self.dl_val)

    def fit(self, epochs):
        for _ in range(epochs):
            self.history["train"].append(self.train_epoch())
            self.history["val"].append(self.validate())
        return self.history
