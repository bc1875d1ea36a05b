# expect: none
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import MultiStepLR
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
tfm = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
train_loader = DataLoader(datasets.CIFAR10("data", train=True, download=True, transform=tfm), batch_size=128, shuffle=True, num_workers=4)
test_loader = DataLoader(datasets.CIFAR10("data", train=False, download=True, transform=transforms.ToTensor()), batch_size=512, num_workers=4)

model = models.resnet18(num_classes=10).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
scheduler = MultiStepLR(optimizer, milestones=[30, 60], gamma=0.1)
criterion = nn.CrossEntropyLoss()

for epoch in range(90):
    print(f"epoch {epoch}: lr {scheduler.get_last_lr()[0]:.4f}")
    model.train()
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
    print(f"  acc {correct / len(test_loader.dataset):.4f}")
    scheduler.step()
