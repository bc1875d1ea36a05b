# expect: TL004, TL005
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class GRUForecaster(nn.Module):
    def __init__(self, n_features, hidden=64):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, num_layers=2, batch_first=True, dropout=0.2)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def train_epoch(model, loader, opt, loss_fn):
    model.train()
    total = 0.0
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        total += loss.item()
    return total / len(loader)


def validate(model, loader, loss_fn):
    total = 0.0
    for x, y in loader:
        total += loss_fn(model(x), y).item()
    return total / len(loader)


if __name__ == "__main__":
    windows = torch.randn(2000, 24, 6)
    targets = torch.randn(2000, 1)
    train_loader = DataLoader(TensorDataset(windows[:1600], targets[:1600]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(windows[1600:], targets[1600:]), batch_size=128)
    model = GRUForecaster(6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    for epoch in range(50):
        tr = train_epoch(model, train_loader, opt, loss_fn)
        va = validate(model, val_loader, loss_fn)
        print(f"{epoch}: train={tr:.4f} val={va:.4f}")
