# expect: none
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class AutoEncoder(nn.Module):
    def __init__(self, latent=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x)).view(-1, 1, 28, 28)


def train_one_epoch(model, loader, optimizer, device):
    model.train()
    losses = []
    for images, _ in loader:
        images = images.to(device)
        recon = model(images)
        loss = F.mse_loss(recon, images)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses).mean().item()


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    total = 0.0
    for images, _ in loader:
        images = images.to(device)
        total += F.mse_loss(model(images), images, reduction="sum").item()
    return total / len(loader.dataset)


def main():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tfm = transforms.ToTensor()
    train_loader = DataLoader(datasets.MNIST("data", train=True, download=True, transform=tfm), batch_size=128, shuffle=True)
    test_loader = DataLoader(datasets.MNIST("data", train=False, transform=tfm), batch_size=512)
    model = AutoEncoder().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(15):
        train_loss = train_one_epoch(model, train_loader, optimizer, device)
        test_loss = evaluate(model, test_loader, device)
        print(f"epoch {epoch}: train {train_loss:.4f} test {test_loss:.4f}")


if __name__ == "__main__":
    main()
