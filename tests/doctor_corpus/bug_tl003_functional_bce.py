# expect: TL003
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset


def make_model(n_features):
    return nn.Sequential(
        nn.Linear(n_features, 64),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(64, 1),
    )


def train(model, loader, optimizer):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        out = model(xb).view(-1)
        loss = F.binary_cross_entropy(out, yb)
        loss.backward()
        optimizer.step()


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in loader:
            pred = (model(xb).view(-1) > 0.5).float()
            correct += (pred == yb).sum().item()
    return correct / len(loader.dataset)


def main():
    X, y = make_classification(n_samples=4000, n_features=30, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    to_t = lambda a: torch.tensor(a, dtype=torch.float32)
    train_loader = DataLoader(TensorDataset(to_t(X_tr), to_t(y_tr)), batch_size=64, shuffle=True)
    test_loader = DataLoader(TensorDataset(to_t(X_te), to_t(y_te)), batch_size=256)
    model = make_model(X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(20):
        train(model, train_loader, optimizer)
        print(epoch, evaluate(model, test_loader))


if __name__ == "__main__":
    main()
