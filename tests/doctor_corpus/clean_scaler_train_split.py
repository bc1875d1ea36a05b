# expect: none
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

df = pd.read_csv("housing.csv").dropna()
X = df.drop(columns=["median_house_value", "ocean_proximity"]).values
y = df["median_house_value"].values / 1e5

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)

to_tensor = lambda a: torch.tensor(a, dtype=torch.float32)
train_loader = DataLoader(TensorDataset(to_tensor(X_train), to_tensor(y_train).unsqueeze(1)), batch_size=64, shuffle=True)
X_test_t, y_test_t = to_tensor(X_test), to_tensor(y_test).unsqueeze(1)

model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(100):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 10 == 0:
        model.eval()
        with torch.no_grad():
            test_mse = criterion(model(X_test_t), y_test_t).item()
        print(f"epoch {epoch}: test mse {test_mse:.4f}")
