# expect: TL003
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class ChurnNet(nn.Module):
    def __init__(self, n_in):
        super().__init__()
        self.fc1 = nn.Linear(n_in, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x).squeeze(1)


df_train = pd.read_csv("churn_train.csv")
features = torch.tensor(df_train.drop(columns=["churn"]).values, dtype=torch.float32)
labels = torch.tensor(df_train["churn"].values, dtype=torch.float32)
train_loader = DataLoader(TensorDataset(features, labels), batch_size=128, shuffle=True)

model = ChurnNet(features.shape[1])
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(25):
    epoch_loss = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        preds = model(xb)
        loss = criterion(preds, yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * xb.size(0)
    print(f"epoch {epoch + 1}: {epoch_loss / len(train_loader.dataset):.4f}")
