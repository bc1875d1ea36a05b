# expect: none
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def train(net, loader, opt, epoch):
    net.train()
    for step, (x, y) in enumerate(loader):
        net.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if step % 200 == 0:
            print(f"epoch {epoch} step {step}: {loss.item():.4f}")


def main():
    loader = DataLoader(datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor()), batch_size=32, shuffle=True)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for epoch in range(3):
        train(net, loader, opt, epoch)


if __name__ == "__main__":
    main()
