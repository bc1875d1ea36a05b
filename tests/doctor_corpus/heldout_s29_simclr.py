# expect: none
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from aug import TwoCropDataset


class Attention(nn.Module):
    def __init__(self, dim, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.heads)
        attn = F.softmax(attn, dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Encoder(nn.Module):
    def __init__(self, patch=4, dim=192, depth=4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, patch)
        self.blocks = nn.ModuleList([Attention(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.projector = nn.Sequential(nn.Linear(dim, 512), nn.ReLU(), nn.Linear(512, 128))

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        for blk in self.blocks:
            x = x + blk(x)
        return self.projector(self.norm(x).mean(1))


def nt_xent_logits(z1, z2, tau=0.2):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / tau
    n = z1.size(0)
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return sim, targets


def pretrain(root, epochs=100, device="cuda"):
    loader = DataLoader(TwoCropDataset(root), batch_size=256, shuffle=True, num_workers=8, drop_last=True)
    model = Encoder().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        loss_sum = 0.0
        for (v1, v2), _ in loader:
            v1, v2 = v1.to(device, non_blocking=True), v2.to(device, non_blocking=True)
            logits, targets = nt_xent_logits(model(v1), model(v2))
            loss = criterion(logits, targets)
            model.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss)
        print(f"epoch {epoch} loss {loss_sum / len(loader):.4f}")
        torch.save(model.state_dict(), f"simclr_{epoch}.pt")
    return model
