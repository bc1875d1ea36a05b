# expect: none
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import TensorDataset, DataLoader

SEED = 42
torch.manual_seed(SEED)
np.random.seed(SEED)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

df = pd.read_csv("../input/tabular-playground/train.csv")
target = df.pop("target").values.astype(np.float32)
feats = df.drop(columns=["id"]).values.astype(np.float32)

X_tr, X_va, y_tr, y_va = train_test_split(feats, target, test_size=0.2, random_state=SEED)
sc = StandardScaler()
X_tr = sc.fit_transform(X_tr)
X_va = sc.transform(X_va)

train_dl = DataLoader(TensorDataset(torch.tensor(X_tr), torch.tensor(y_tr)), batch_size=256, shuffle=True)
valid_dl = DataLoader(TensorDataset(torch.tensor(X_va), torch.tensor(y_va)), batch_size=1024)

net = nn.Sequential(
    nn.Linear(X_tr.shape[1], 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3),
    nn.Linear(256, 64), nn.ReLU(),
    nn.Linear(64, 1),
).to(device)
loss_fn = nn.MSELoss()
opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)

best = 1e9
for ep in range(30):
    net.train()
    tl = 0.0
    for xb, yb in train_dl:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        pred = net(xb).squeeze(1)
        loss = loss_fn(pred, yb)
        loss.backward()
        opt.step()
        tl += loss.item() * len(xb)
    net.eval()
    preds = []
    with torch.no_grad():
        for xb, yb in valid_dl:
            preds.append(net(xb.to(device)).squeeze(1).cpu().numpy())
    rmse = np.sqrt(np.mean((np.concatenate(preds) - y_va) ** 2))
    print(f"epoch {ep} train {tl / len(X_tr):.4f} valid rmse {rmse:.4f}")
    if rmse < best:
        best = rmse
        torch.save(net.state_dict(), "best.pt")
