# expect: TL011
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 300)
        self.l2 = nn.Linear(300, 100)
        self.l3 = nn.Linear(100, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.l3(x)


train_loader = DataLoader(datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor()), batch_size=100, shuffle=True)
model = MLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    for i, (x, y) in enumerate(train_loader):
        optimizer.zero_grad()
        out = model.forward(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print(f"epoch {epoch} iter {i}: {loss.item():.4f}")
