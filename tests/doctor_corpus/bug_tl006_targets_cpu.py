# expect: TL006
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def train_one_epoch(model, loader, criterion, optimizer, device):
    model.train()
    running_loss = 0.0
    for images, labels in loader:
        images = images.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * images.size(0)
    return running_loss / len(loader.dataset)


def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


def main():
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    tfm = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
    train_loader = DataLoader(datasets.ImageFolder("data/train", tfm), batch_size=32, shuffle=True)
    val_loader = DataLoader(datasets.ImageFolder("data/val", tfm), batch_size=64)
    model = models.resnet18(num_classes=4).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(10):
        loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
        acc = evaluate(model, val_loader, device)
        print(f"epoch {epoch}: loss {loss:.4f} acc {acc:.4f}")


if __name__ == "__main__":
    main()
