# expect: TL009
import numpy as np
import torch
import torch.nn as nn
from sklearn.preprocessing import MinMaxScaler
from torch.utils.data import DataLoader, TensorDataset, random_split


def load_dataset(path):
    data = np.load(path)
    features = MinMaxScaler().fit_transform(data["features"])
    X = torch.from_numpy(features).float()
    y = torch.from_numpy(data["labels"]).float().unsqueeze(1)
    return TensorDataset(X, y)


def train(model, loader, optimizer, criterion):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, loader, criterion):
    model.eval()
    losses = [criterion(model(xb), yb).item() for xb, yb in loader]
    return sum(losses) / len(losses)


def main():
    dataset = load_dataset("diabetes.npz")
    n_val = len(dataset) // 5
    train_ds, val_ds = random_split(dataset, [len(dataset) - n_val, n_val], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=128)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(100):
        train(model, train_loader, optimizer, criterion)
        if epoch % 10 == 0:
            print(epoch, evaluate(model, val_loader, criterion))


if __name__ == "__main__":
    main()
