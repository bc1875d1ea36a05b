# expect: TL001
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, train_ds, val_ds, lr=1e-3, batch_size=32, device="cpu"):
        self.device = device
        self.model = model.to(device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=1e-2)
        self.crit = nn.MSELoss()
        self.train_dl = DataLoader(train_ds, batch_size=batch_size, shuffle=True)
        self.val_dl = DataLoader(val_ds, batch_size=batch_size)

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            self.opt.zero_grad()
            for xb, yb in self.train_dl:
                xb, yb = xb.to(self.device), yb.to(self.device)
                pred = self.model(xb)
                loss = self.crit(pred, yb)
                loss.backward()
                self.opt.step()
            val = self.validate()
            print(f"epoch {epoch}: val mse {val:.4f}")

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        total, n = 0.0, 0
        for xb, yb in self.val_dl:
            xb, yb = xb.to(self.device), yb.to(self.device)
            total += self.crit(self.model(xb), yb).item() * xb.size(0)
            n += xb.size(0)
        return total / n


if __name__ == "__main__":
    X = torch.randn(1000, 8)
    y = X @ torch.randn(8, 1) + 0.1 * torch.randn(1000, 1)
    train_ds = TensorDataset(X[:800], y[:800])
    val_ds = TensorDataset(X[800:], y[800:])
    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 1))
    Trainer(net, train_ds, val_ds).fit(20)
