# expect: TL002
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def build_model(n_features, n_classes):
    return nn.Sequential(
        nn.Linear(n_features, 128),
        nn.BatchNorm1d(128),
        nn.ReLU(),
        nn.Linear(128, n_classes),
        nn.Softmax(dim=1),
    )


def train(model, loader, criterion, optimizer):
    model.train()
    total = 0.0
    for features, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader):
    model.eval()
    hits, n = 0, 0
    with torch.no_grad():
        for features, labels in loader:
            hits += (model(features).argmax(dim=1) == labels).sum().item()
            n += labels.numel()
    return hits / n


def main():
    X = torch.randn(3000, 20)
    y = torch.randint(0, 4, (3000,))
    train_ds, val_ds = random_split(TensorDataset(X, y), [2400, 600])
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=256, shuffle=False)
    model = build_model(20, 4)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(30):
        loss = train(model, train_loader, criterion, optimizer)
        acc = evaluate(model, val_loader)
        print(epoch, round(loss, 4), round(acc, 4))


if __name__ == "__main__":
    main()
