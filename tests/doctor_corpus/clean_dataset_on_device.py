# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# small dataset: keep it entirely on the GPU and skip per-batch copies
X = torch.randn(10000, 20, device=device)
w_true = torch.randn(20, 1, device=device)
y = (X @ w_true + 0.1 * torch.randn(10000, 1, device=device)).squeeze(1)
X_train, y_train = X[:8000], y[:8000]
X_val, y_val = X[8000:], y[8000:]

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=256, shuffle=True)
val_loader = DataLoader(TensorDataset(X_val, y_val), batch_size=1024)

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 1)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(30):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb).squeeze(1), yb)
        loss.backward()
        optimizer.step()

    model.eval()
    with torch.no_grad():
        val = sum(criterion(model(xb).squeeze(1), yb).item() * len(xb) for xb, yb in val_loader) / len(X_val)
    print(f"epoch {epoch}: val mse {val:.4f}")
