# expect: TL002
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import models
from tqdm import tqdm

from data import MultiLabelImages  # local helper module


def train_one_epoch(net, dl, opt, crit, device):
    net.train()
    seen, total = 0, 0.0
    for imgs, targets in tqdm(dl, desc="train"):
        imgs = imgs.to(device, non_blocking=True)
        targets = targets.float().to(device, non_blocking=True)
        out = torch.sigmoid(net(imgs))
        loss = crit(out, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += imgs.size(0)
        total += loss.item() * imgs.size(0)
    return total / seen


@torch.no_grad()
def evaluate(net, dl, device, threshold=0.5):
    net.eval()
    tp = fp = fn = 0
    for imgs, targets in dl:
        imgs, targets = imgs.to(device), targets.to(device)
        pred = torch.sigmoid(net(imgs)) > threshold
        tp += (pred & (targets == 1)).sum().item()
        fp += (pred & (targets == 0)).sum().item()
        fn += (~pred & (targets == 1)).sum().item()
    return 2 * tp / max(2 * tp + fp + fn, 1)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dl_train = DataLoader(MultiLabelImages("train"), batch_size=32, shuffle=True, num_workers=4)
    dl_val = DataLoader(MultiLabelImages("val"), batch_size=64, num_workers=4)
    net = models.resnet34(num_classes=20).to(device)
    crit = nn.BCEWithLogitsLoss()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    for epoch in range(15):
        loss = train_one_epoch(net, dl_train, opt, crit, device)
        f1 = evaluate(net, dl_val, device)
        print(f"{epoch}: loss={loss:.4f} f1={f1:.4f}")


if __name__ == "__main__":
    main()
