# expect: none
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, TensorDataset

device = "cuda" if torch.cuda.is_available() else "cpu"
train = pd.read_csv("train.csv")
test = pd.read_csv("test.csv")
features = [c for c in train.columns if c.startswith("f_")]
X_all = train[features].values
y_all = train["target"].values
X_test_raw = test[features].values


def make_model(d):
    return nn.Sequential(nn.Linear(d, 128), nn.SiLU(), nn.Linear(128, 64), nn.SiLU(), nn.Linear(64, 1))


oof = np.zeros(len(train))
test_pred = np.zeros(len(test))
skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
for fold, (tr_idx, va_idx) in enumerate(skf.split(X_all, y_all)):
    scaler = StandardScaler().fit(X_all[tr_idx])
    X_tr = torch.tensor(scaler.transform(X_all[tr_idx]), dtype=torch.float32)
    X_va = torch.tensor(scaler.transform(X_all[va_idx]), dtype=torch.float32)
    X_te = torch.tensor(scaler.transform(X_test_raw), dtype=torch.float32)
    y_tr = torch.tensor(y_all[tr_idx], dtype=torch.float32)

    dl = DataLoader(TensorDataset(X_tr, y_tr), batch_size=512, shuffle=True)
    model = make_model(X_tr.shape[1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    crit = nn.BCEWithLogitsLoss()
    for epoch in range(20):
        model.train()
        for xb, yb in dl:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = crit(model(xb).squeeze(-1), yb)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        oof[va_idx] = torch.sigmoid(model(X_va.to(device))).squeeze(-1).cpu().numpy()
        test_pred += torch.sigmoid(model(X_te.to(device))).squeeze(-1).cpu().numpy() / 5
    print(f"fold {fold} auc {roc_auc_score(y_all[va_idx], oof[va_idx]):.5f}")

print("CV AUC", roc_auc_score(y_all, oof))
pd.DataFrame({"id": test["id"], "target": test_pred}).to_csv("submission.csv", index=False)
