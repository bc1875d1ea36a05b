# expect: TL005, TL009
import copy
import numpy as np
import torch
import torch.nn as nn
from sklearn.preprocessing import MinMaxScaler
from torch.utils.data import DataLoader, TensorDataset, random_split

data = np.loadtxt("sensor_readings.csv", delimiter=",", skiprows=1, dtype=np.float32)
X, y = data[:, :-1], data[:, -1:]
X = MinMaxScaler().fit_transform(X)

full = TensorDataset(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y))
n_val = int(0.15 * len(full))
train_ds, val_ds = random_split(full, [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(0))
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=256)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(X.shape[1], 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 1)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.SmoothL1Loss()


class EarlyStopping:
    def __init__(self, patience=10, min_delta=1e-4):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.count, self.best_state = np.inf, 0, None

    def __call__(self, val_loss, model):
        if val_loss < self.best - self.min_delta:
            self.best, self.count = val_loss, 0
            self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.count += 1
        return self.count >= self.patience


stopper = EarlyStopping()
for epoch in range(500):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()

    model.eval()
    val_losses = []
    for xb, yb in val_loader:
        xb, yb = xb.to(device), yb.to(device)
        val_losses.append(loss_fn(model(xb), yb).item())
    val_loss = float(np.mean(val_losses))
    if epoch % 10 == 0:
        print(f"epoch {epoch} val {val_loss:.5f}")
    if stopper(val_loss, model):
        print(f"early stop at {epoch}, best {stopper.best:.5f}")
        break

model.load_state_dict(stopper.best_state)
torch.save(model.state_dict(), "regressor.pt")
