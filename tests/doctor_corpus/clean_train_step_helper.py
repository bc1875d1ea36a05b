# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def train_step(model, optimizer, criterion, batch):
    x, y = batch
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def eval_step(model, criterion, batch):
    x, y = batch
    return criterion(model(x), y).item()


def main():
    X = torch.randn(2000, 10)
    y = (X.sum(dim=1, keepdim=True) > 0).float()
    train_loader = DataLoader(TensorDataset(X[:1600], y[:1600]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[1600:], y[1600:]), batch_size=200)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(20):
        model.train()
        train_losses = [train_step(model, optimizer, criterion, b) for b in train_loader]
        model.eval()
        val_losses = [eval_step(model, criterion, b) for b in val_loader]
        print(f"epoch {epoch}: train {sum(train_losses) / len(train_losses):.4f} val {sum(val_losses) / len(val_losses):.4f}")


if __name__ == "__main__":
    main()
