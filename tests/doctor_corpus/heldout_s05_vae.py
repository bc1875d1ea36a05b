# expect: TL007
import torch
from torch import nn
from torch.nn import functional as F
from torchvision import datasets, transforms
from torch.utils.data import DataLoader

device = "cuda" if torch.cuda.is_available() else "cpu"
train_loader = DataLoader(datasets.FashionMNIST("data", train=True, download=True, transform=transforms.ToTensor()),
                          batch_size=128, shuffle=True)
test_loader = DataLoader(datasets.FashionMNIST("data", train=False, transform=transforms.ToTensor()), batch_size=128)


class VAE(nn.Module):
    def __init__(self, latent=20):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.ReLU())
        self.mu = nn.Linear(400, latent)
        self.logvar = nn.Linear(400, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 400), nn.ReLU(), nn.Linear(400, 784), nn.Sigmoid())

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = self.reparameterize(mu, logvar)
        return self.dec(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(1, 21):
    model.train()
    epoch_losses = []
    for x, _ in train_loader:
        x = x.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        loss.backward()
        optimizer.step()
        epoch_losses.append(loss)
    mean_train = torch.stack(epoch_losses).sum().item() / len(train_loader.dataset)

    model.eval()
    test_loss = 0.0
    with torch.no_grad():
        for x, _ in test_loader:
            x = x.to(device)
            recon, mu, logvar = model(x)
            test_loss += loss_function(recon, x, mu, logvar).item()
    print(f"epoch {epoch}: train {mean_train:.3f} test {test_loss / len(test_loader.dataset):.3f}")
    with torch.no_grad():
        z = torch.randn(64, 20, device=device)
        sample = model.dec(z).cpu().view(64, 1, 28, 28)
