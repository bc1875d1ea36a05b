# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class ScaledLinear(nn.Linear):
    def __init__(self, in_features, out_features, scale=0.5):
        super().__init__(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return super().forward(x) * self.scale


class ResidualMLP(nn.Sequential):
    def forward(self, x):
        return x + super().forward(x)


model = nn.Sequential(
    ScaledLinear(16, 64),
    nn.ReLU(),
    ResidualMLP(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64)),
    nn.Linear(64, 1),
)

X = torch.randn(4000, 16)
y = torch.sin(X.sum(dim=1, keepdim=True))
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(40):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: {total / len(loader):.4f}")
