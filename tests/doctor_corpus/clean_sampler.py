# expect: none
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, WeightedRandomSampler
from torchvision import datasets, models, transforms


def make_loaders(root, batch_size=32):
    tfm = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor()])
    train_ds = datasets.ImageFolder(f"{root}/train", transform=tfm)
    val_ds = datasets.ImageFolder(f"{root}/val", transform=tfm)
    counts = np.bincount(train_ds.targets)
    sample_weights = [1.0 / counts[t] for t in train_ds.targets]
    sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)
    train_loader = DataLoader(train_ds, batch_size=batch_size, sampler=sampler, num_workers=4)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, num_workers=4)
    return train_loader, val_loader, len(train_ds.classes)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, val_loader, n_classes = make_loaders("data/skin_lesions")
    model = models.resnet18(num_classes=n_classes).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(10):
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in val_loader:
                images, labels = images.to(device), labels.to(device)
                correct += (model(images).argmax(1) == labels).sum().item()
        print(f"epoch {epoch}: val acc {correct / len(val_loader.dataset):.4f}")


if __name__ == "__main__":
    main()
