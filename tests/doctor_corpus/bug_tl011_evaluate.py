# expect: TL011
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, d_out))

    def forward(self, x):
        return self.body(x)


def train(net, dl, opt, crit):
    net.train()
    for xb, yb in dl:
        opt.zero_grad()
        loss = crit(net(xb), yb)
        loss.backward()
        opt.step()


def evaluate(net, dl):
    net.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in dl:
            logits = net.forward(xb)
            correct += (logits.argmax(1) == yb).sum().item()
    return correct / len(dl.dataset)


def main():
    X, y = torch.randn(5000, 16), torch.randint(0, 3, (5000,))
    dl_train = DataLoader(TensorDataset(X[:4000], y[:4000]), batch_size=64, shuffle=True)
    dl_test = DataLoader(TensorDataset(X[4000:], y[4000:]), batch_size=500)
    net = Net(16, 3)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    for epoch in range(10):
        train(net, dl_train, opt, crit)
        print(epoch, evaluate(net, dl_test))


if __name__ == "__main__":
    main()
