# expect: none
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def train_one_epoch(model, loader, criterion, optimizer, scheduler, device):
    model.train()
    total = 0.0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item()
    return total / len(loader)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tfm = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    train_loader = DataLoader(datasets.CIFAR100("data", train=True, download=True, transform=tfm), batch_size=256, shuffle=True, num_workers=4)
    model = models.resnet18(num_classes=100).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    epochs = 30
    scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=epochs, steps_per_epoch=len(train_loader))
    for epoch in range(epochs):
        loss = train_one_epoch(model, train_loader, criterion, optimizer, scheduler, device)
        print(f"epoch {epoch}: loss {loss:.4f}")
    torch.save(model.state_dict(), "resnet18_cifar100.pt")


if __name__ == "__main__":
    main()
