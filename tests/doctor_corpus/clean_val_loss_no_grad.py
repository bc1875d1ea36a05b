# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.linspace(-3, 3, 2000).unsqueeze(1)
y = torch.sin(x) + 0.1 * torch.randn_like(x)
idx = torch.randperm(len(x))
train_idx, val_idx = idx[:1600], idx[1600:]
train_loader = DataLoader(TensorDataset(x[train_idx], y[train_idx]), batch_size=50, shuffle=True)
val_loader = DataLoader(TensorDataset(x[val_idx], y[val_idx]), batch_size=200)

model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 1))
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(100):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()

    model.eval()
    val_loss = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            loss = criterion(model(xb), yb)
            val_loss += loss
    if epoch % 10 == 0:
        print(f"epoch {epoch}: val mse {(val_loss / len(val_loader)).item():.5f}")
