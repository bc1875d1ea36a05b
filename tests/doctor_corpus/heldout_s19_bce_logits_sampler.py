# expect: none
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, WeightedRandomSampler
from sklearn.metrics import roc_auc_score

from xray import ChestXrayDataset, build_backbone

device = torch.device("cuda")
train_ds = ChestXrayDataset("train.csv", augment=True)
val_ds = ChestXrayDataset("val.csv", augment=False)
counts = np.bincount(train_ds.targets)
weights = 1.0 / counts[train_ds.targets]
sampler = WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), num_samples=len(train_ds), replacement=True)
train_loader = DataLoader(train_ds, batch_size=32, sampler=sampler, num_workers=8)
val_loader = DataLoader(val_ds, batch_size=64, num_workers=8)

model = build_backbone("densenet121")
model.classifier = nn.Linear(model.classifier.in_features, 1)
model = model.to(device)
pos_weight = torch.tensor([counts[0] / counts[1]], device=device)
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=5)


def run_epoch(loader, train):
    model.train(train)
    all_probs, all_y, total = [], [], 0.0
    with torch.set_grad_enabled(train):
        for i, (img, y) in enumerate(loader):
            img, y = img.to(device), y.float().to(device)
            logits = model(img).squeeze(1)
            loss = criterion(logits, y)
            if train:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step(epoch + i / len(loader))
            total += loss.item()
            all_probs.append(torch.sigmoid(logits).detach().cpu())
            all_y.append(y.cpu())
    return total / len(loader), roc_auc_score(torch.cat(all_y), torch.cat(all_probs))


best = 0
for epoch in range(20):
    tr_loss, tr_auc = run_epoch(train_loader, True)
    va_loss, va_auc = run_epoch(val_loader, False)
    print(f"{epoch}: train {tr_loss:.4f}/{tr_auc:.4f} val {va_loss:.4f}/{va_auc:.4f}")
    if va_auc > best:
        best = va_auc
        torch.save(model.state_dict(), "densenet_xray.pt")
