# expect: TL010
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def build_loaders(root, batch_size=32):
    tfm = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor()])
    train_ds = datasets.ImageFolder(f"{root}/train", transform=tfm)
    val_ds = datasets.ImageFolder(f"{root}/val", transform=tfm)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=False, num_workers=4)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, num_workers=4)
    return train_loader, val_loader, len(train_ds.classes)


def train_one_epoch(model, loader, criterion, optimizer, device):
    model.train()
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    correct = 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, val_loader, n_classes = build_loaders("data/cats_vs_dogs")
    model = models.resnet18(num_classes=n_classes).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(10):
        train_one_epoch(model, train_loader, criterion, optimizer, device)
        print(f"epoch {epoch}: val acc {evaluate(model, val_loader, device):.4f}")


if __name__ == "__main__":
    main()
