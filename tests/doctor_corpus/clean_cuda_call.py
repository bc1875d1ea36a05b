# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class AudioClassifier(nn.Module):
    def __init__(self, n_mels=64, n_classes=35):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_mels, 128, 3, padding=1), nn.ReLU(),
            nn.Conv1d(128, 128, 3, padding=1), nn.ReLU(),
        )
        self.fc = nn.Linear(128, n_classes)

    def forward(self, spec):
        return self.fc(self.conv(spec).mean(dim=-1))


class Trainer:
    def __init__(self, train_ds, epochs=10):
        self.model = AudioClassifier().cuda()
        self.crit = nn.CrossEntropyLoss()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loader = DataLoader(train_ds, batch_size=64, shuffle=True, num_workers=8, pin_memory=True)
        self.epochs = epochs

    def train_step(self, batch):
        spec = batch["spectrogram"].cuda(non_blocking=True)
        label = batch["label"].cuda(non_blocking=True)
        logits = self.model(spec)
        loss = self.crit(logits, label)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def train(self):
        self.model.train()
        for epoch in range(self.epochs):
            losses = [self.train_step(batch) for batch in self.loader]
            print(f"epoch {epoch}: {sum(losses) / len(losses):.4f}")
