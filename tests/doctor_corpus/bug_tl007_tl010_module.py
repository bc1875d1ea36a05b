# expect: TL007, TL010
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
n = 4000
X = torch.rand(n, 2) * 4 - 2
y = ((X[:, 0] ** 2 + X[:, 1] ** 2) < 1.5).long()

train_dl = DataLoader(TensorDataset(X, y), batch_size=40)

net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
loss_fn = nn.CrossEntropyLoss()

epoch_losses = []
for epoch in range(50):
    batch_losses = []
    for xb, yb in train_dl:
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        batch_losses.append(loss)
    epoch_losses.append(sum(batch_losses) / len(batch_losses))
    if epoch % 10 == 0:
        print(f"epoch {epoch}: {epoch_losses[-1].item():.4f}")
