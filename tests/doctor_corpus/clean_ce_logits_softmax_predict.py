# expect: none
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2))
        self.logits = nn.Linear(256, 10)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.logits(self.features(x))

    @torch.no_grad()
    def predict_proba(self, x):
        return self.softmax(self(x))


device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_loader = DataLoader(datasets.FashionMNIST("data", train=True, download=True, transform=transforms.ToTensor()), batch_size=64, shuffle=True)
test_loader = DataLoader(datasets.FashionMNIST("data", train=False, transform=transforms.ToTensor()), batch_size=512)

model = Classifier().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    model.train()
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    confident = correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            x, y = x.to(device), y.to(device)
            probs = F.softmax(model(x), dim=1)
            conf, pred = probs.max(dim=1)
            correct += (pred == y).sum().item()
            confident += (conf > 0.9).sum().item()
    print(f"epoch {epoch}: acc {correct / len(test_loader.dataset):.4f}, confident {confident}")
