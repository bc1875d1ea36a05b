# expect: none
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from mymodels import TinyGPT
from mydata import TokenDataset

cfg = dict(block_size=256, batch_size=16, accum_steps=8, lr=6e-4, max_iters=5000, eval_every=250)
device = torch.device("cuda:0")
model = TinyGPT(vocab_size=50304, n_layer=6, n_head=6, n_embd=384).to(device)
opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.95), weight_decay=0.1)
train_dl = DataLoader(TokenDataset("train.bin", cfg["block_size"]), batch_size=cfg["batch_size"], shuffle=True, drop_last=True)
val_dl = DataLoader(TokenDataset("val.bin", cfg["block_size"]), batch_size=cfg["batch_size"])


def lr_at(it, warmup=200):
    if it < warmup:
        return cfg["lr"] * it / warmup
    ratio = (it - warmup) / (cfg["max_iters"] - warmup)
    return 0.1 * cfg["lr"] + 0.45 * cfg["lr"] * (1 + math.cos(math.pi * ratio))


@torch.no_grad()
def estimate_val_loss(n_batches=50):
    model.eval()
    losses = []
    for k, (xb, yb) in enumerate(val_dl):
        if k >= n_batches:
            break
        xb, yb = xb.to(device), yb.to(device)
        logits = model(xb)
        losses.append(F.cross_entropy(logits.view(-1, logits.size(-1)), yb.view(-1)).item())
    model.train()
    return sum(losses) / len(losses)


it = 0
micro = 0
model.train()
opt.zero_grad(set_to_none=True)
while it < cfg["max_iters"]:
    for xb, yb in train_dl:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        logits = model(xb)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), yb.view(-1)) / cfg["accum_steps"]
        loss.backward()
        micro += 1
        if micro % cfg["accum_steps"] == 0:
            for g in opt.param_groups:
                g["lr"] = lr_at(it)
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            it += 1
            if it % cfg["eval_every"] == 0:
                print(f"iter {it} val loss {estimate_val_loss():.4f}")
            if it >= cfg["max_iters"]:
                break
torch.save(model.state_dict(), "ckpt.pt")
