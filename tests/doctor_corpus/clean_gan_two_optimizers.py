# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
latent_dim = 64

loader = DataLoader(
    datasets.MNIST("data", train=True, download=True,
                   transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])),
    batch_size=128, shuffle=True, drop_last=True,
)

G = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh()).to(device)
D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1)).to(device)
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
adv = nn.BCEWithLogitsLoss()

for epoch in range(50):
    for real, _ in loader:
        real = real.view(real.size(0), -1).to(device)
        ones = torch.ones(real.size(0), 1, device=device)
        zeros = torch.zeros(real.size(0), 1, device=device)

        fake = G(torch.randn(real.size(0), latent_dim, device=device))
        opt_d.zero_grad()
        d_loss = adv(D(real), ones) + adv(D(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()

        opt_g.zero_grad()
        g_loss = adv(D(fake), ones)
        g_loss.backward()
        opt_g.step()
    print(f"epoch {epoch}: d_loss {d_loss.item():.3f} g_loss {g_loss.item():.3f}")
