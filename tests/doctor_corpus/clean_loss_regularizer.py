# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(5000, 50)
y = X[:, :5].sum(dim=1, keepdim=True) + 0.1 * torch.randn(5000, 1)
loader = DataLoader(TensorDataset(X, y), batch_size=100, shuffle=True)

model = nn.Linear(50, 1)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
l1_lambda = 1e-3

for epoch in range(30):
    epoch_loss = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss += l1_lambda * model.weight.abs().sum()
        loss = loss + 1e-4 * model.bias.pow(2).sum()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(f"epoch {epoch}: {epoch_loss / len(loader):.4f}, nonzero weights: {(model.weight.abs() > 1e-2).sum().item()}")
