# expect: TL007, TL011
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# synthetic sine-wave forecasting
t = np.linspace(0, 100, 5000, dtype=np.float32)
series = np.sin(t) + 0.1 * np.random.randn(len(t)).astype(np.float32)
WIN = 50
Xs = np.stack([series[i:i + WIN] for i in range(len(series) - WIN)])[:, :, None]
ys = series[WIN:][:, None]
split = int(0.8 * len(Xs))
X_train, y_train = torch.tensor(Xs[:split]), torch.tensor(ys[:split])
X_test, y_test = torch.tensor(Xs[split:]), torch.tensor(ys[split:])
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train, y_train), batch_size=64, shuffle=True)


class Forecaster(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.rnn = nn.GRU(1, hidden, batch_first=True, num_layers=2)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


model = Forecaster().to(device)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
mse = nn.MSELoss()
history = []

for epoch in range(40):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        pred = model.forward(xb)
        loss = mse(pred, yb)
        loss.backward()
        optimizer.step()
        history.append(loss)
    model.eval()
    with torch.no_grad():
        test_mse = mse(model(X_test.to(device)), y_test.to(device)).item()
    print(f"epoch {epoch:02d} test mse {test_mse:.5f}")

plt.plot([h.item() for h in history])
plt.yscale("log")
plt.savefig("loss_curve.png")
