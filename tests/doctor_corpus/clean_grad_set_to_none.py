# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(3000, 5)
y = (X[:, :2].sum(1) > 0).long()
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)

net = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 2))
opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
crit = nn.CrossEntropyLoss()

for epoch in range(20):
    correct = 0
    for xb, yb in loader:
        for p in net.parameters():
            p.grad = None
        out = net(xb)
        loss = crit(out, yb)
        loss.backward()
        opt.step()
        correct += (out.argmax(1) == yb).sum().item()
    print(f"epoch {epoch}: train acc {correct / len(X):.3f}")
