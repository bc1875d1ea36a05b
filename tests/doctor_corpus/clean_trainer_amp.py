# expect: none
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils.data import DataLoader
from tqdm import tqdm


class Trainer:
    def __init__(self, model, train_ds, val_ds, epochs=20, device="cuda"):
        self.model = model.to(device)
        self.device = device
        self.epochs = epochs
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        self.scheduler = CosineAnnealingLR(self.optimizer, T_max=epochs)
        self.scaler = torch.cuda.amp.GradScaler()
        self.train_loader = DataLoader(train_ds, batch_size=128, shuffle=True, num_workers=8, pin_memory=True)
        self.val_loader = DataLoader(val_ds, batch_size=256, shuffle=False, num_workers=8)

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for batch in tqdm(self.train_loader, leave=False):
            images = batch["image"].to(self.device, non_blocking=True)
            labels = batch["label"].to(self.device, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=torch.float16):
                loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            total += loss.detach().float().item()
        return total / len(self.train_loader)

    @torch.inference_mode()
    def validate(self):
        self.model.eval()
        correct = 0
        for batch in self.val_loader:
            images = batch["image"].to(self.device)
            labels = batch["label"].to(self.device)
            correct += (self.model(images).argmax(1) == labels).sum().item()
        return correct / len(self.val_loader.dataset)

    def fit(self):
        for epoch in range(self.epochs):
            loss = self.train_epoch()
            acc = self.validate()
            self.scheduler.step()
            print(f"epoch {epoch}: loss {loss:.4f} acc {acc:.4f}")
