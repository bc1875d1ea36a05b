# expect: TL005
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

device = "cuda" if torch.cuda.is_available() else "cpu"
tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
train_loader = DataLoader(datasets.CIFAR10("data", train=True, download=True, transform=tfm), batch_size=128, shuffle=True)
val_loader = DataLoader(datasets.CIFAR10("data", train=False, download=True, transform=tfm), batch_size=256, shuffle=False)

model = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10),
).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)

for epoch in range(20):
    model.train()
    for inputs, targets in train_loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()

    model.eval()
    val_loss, correct = 0.0, 0
    for inputs, targets in val_loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        val_loss += criterion(outputs, targets).item()
        correct += outputs.argmax(1).eq(targets).sum().item()
    print(f"epoch {epoch}: val loss {val_loss / len(val_loader):.3f}, acc {100 * correct / len(val_loader.dataset):.2f}%")
