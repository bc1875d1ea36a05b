# expect: TL003
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.model_selection import train_test_split
from sklearn.metrics import f1_score

embeddings = np.load("comment_embeddings.npy").astype(np.float32)
is_toxic = np.load("labels.npy").astype(np.float32)
X_train, X_val, y_train, y_val = train_test_split(embeddings, is_toxic, test_size=0.1, stratify=is_toxic)

train_loader = DataLoader(TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)), batch_size=128, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.from_numpy(X_val), torch.from_numpy(y_val)), batch_size=512)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ToxicClassifier(nn.Module):
    def __init__(self, dim=768):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(dim, 256),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(256, 1),
        )

    def forward(self, x):
        return self.layers(x).squeeze(-1)


clf = ToxicClassifier().to(device)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(clf.parameters(), lr=1e-4)

for epoch in range(10):
    clf.train()
    running = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        scores = clf(xb)
        loss = criterion(scores, yb)
        loss.backward()
        optimizer.step()
        running += loss.item()
    clf.eval()
    preds = []
    with torch.no_grad():
        for xb, _ in val_loader:
            probs = torch.sigmoid(clf(xb.to(device)))
            preds.append((probs > 0.5).float().cpu().numpy())
    print(epoch, running / len(train_loader), f1_score(y_val, np.concatenate(preds)))
