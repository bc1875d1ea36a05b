# expect: TL009
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

raw = np.loadtxt("sensor_readings.csv", delimiter=",", skiprows=1)
X = torch.tensor(raw[:, :-1], dtype=torch.float32)
y = torch.tensor(raw[:, -1], dtype=torch.long)

# normalise features
X = (X - X.mean(0)) / X.std(0)

perm = torch.randperm(len(X))
X, y = X[perm], y[perm]
n_train = int(0.8 * len(X))
X_train, y_train = X[:n_train], y[:n_train]
X_val, y_val = X[n_train:], y[n_train:]

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(X_val, y_val), batch_size=256)

model = nn.Sequential(nn.Linear(X.shape[1], 32), nn.ReLU(), nn.Linear(32, int(y.max()) + 1))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)

for epoch in range(60):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in val_loader)
    print(f"epoch {epoch}: val acc {correct / len(X_val):.3f}")
