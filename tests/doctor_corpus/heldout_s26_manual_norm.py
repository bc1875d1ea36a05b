# expect: TL009
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split

df = pd.read_csv("housing.csv").dropna()
y = np.log1p(df.pop("median_house_value").values).astype(np.float32)
df = pd.get_dummies(df, columns=["ocean_proximity"], dtype=float)
X = df.values.astype(np.float32)

mu = X.mean(axis=0)
sigma = X.std(axis=0) + 1e-8
X = (X - mu) / sigma

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=7)
X_train, X_test = torch.from_numpy(X_train), torch.from_numpy(X_test)
y_train, y_test = torch.from_numpy(y_train).unsqueeze(1), torch.from_numpy(y_test).unsqueeze(1)

dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
ds = torch.utils.data.TensorDataset(X_train, y_train)
loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Linear(X.shape[1], 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 1),
).to(dev)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()

for epoch in range(100):
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(dev), yb.to(dev)
        opt.zero_grad()
        l = loss_fn(model(xb), yb)
        l.backward()
        opt.step()
    if epoch % 10 == 0:
        model.eval()
        with torch.no_grad():
            test_loss = loss_fn(model(X_test.to(dev)), y_test.to(dev)).item()
        print(f"epoch {epoch}: test RMSE(log) = {test_loss ** 0.5:.4f}")
