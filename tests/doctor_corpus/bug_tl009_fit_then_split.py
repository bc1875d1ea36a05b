# expect: TL009
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import RobustScaler
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, csv_path, target="price"):
        df = pd.read_csv(csv_path)
        X = df.drop(columns=[target]).to_numpy(dtype="float32")
        y = df[target].to_numpy(dtype="float32").reshape(-1, 1)
        self.scaler = RobustScaler().fit(X)
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=1)
        X_train = self.scaler.transform(X_train)
        X_val = self.scaler.transform(X_val)
        self.train_dl = DataLoader(TensorDataset(torch.tensor(X_train), torch.tensor(y_train)), batch_size=64, shuffle=True)
        self.val_dl = DataLoader(TensorDataset(torch.tensor(X_val), torch.tensor(y_val)), batch_size=512)
        self.model = nn.Sequential(nn.Linear(X.shape[1], 128), nn.ReLU(), nn.Linear(128, 1))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = nn.L1Loss()

    def run(self, epochs=50):
        for epoch in range(epochs):
            self.model.train()
            for xb, yb in self.train_dl:
                self.opt.zero_grad()
                loss = self.loss_fn(self.model(xb), yb)
                loss.backward()
                self.opt.step()
            self.model.eval()
            with torch.no_grad():
                mae = sum(self.loss_fn(self.model(xb), yb).item() * len(xb) for xb, yb in self.val_dl)
            print(f"epoch {epoch}: val MAE {mae / len(self.val_dl.dataset):.3f}")


if __name__ == "__main__":
    Trainer("cars.csv").run()
