# expect: TL006
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
tfm = transforms.ToTensor()
train_dl = DataLoader(datasets.SVHN("data", split="train", download=True, transform=tfm), batch_size=128, shuffle=True)
test_dl = DataLoader(datasets.SVHN("data", split="test", download=True, transform=tfm), batch_size=512)

net = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
).to(device)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
crit = nn.CrossEntropyLoss()

for epoch in range(10):
    net.train()
    for xb, yb in train_dl:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        crit(net(xb), yb).backward()
        opt.step()

    net.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in test_dl:
            preds = net(xb).argmax(dim=1)
            correct += (preds == yb).sum().item()
    print(f"epoch {epoch}: test acc {correct / len(test_dl.dataset):.4f}")
