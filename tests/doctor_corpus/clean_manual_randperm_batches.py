# expect: none
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
data = torch.load("features.pt", weights_only=True)
X_train, y_train = data["X_train"].to(device), data["y_train"].to(device)
X_val, y_val = data["X_val"].to(device), data["y_val"].to(device)

model = nn.Sequential(nn.Linear(X_train.shape[1], 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
batch_size = 256

for epoch in range(20):
    model.train()
    perm = torch.randperm(len(X_train), device=device)
    total = 0.0
    for start in range(0, len(perm), batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = X_train[idx], y_train[idx]
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)

    model.eval()
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch}: train loss {total / len(X_train):.4f} val acc {val_acc:.4f}")
