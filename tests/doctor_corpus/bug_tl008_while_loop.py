# expect: TL008
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader

from data import CharDataset  # local module
from model import CharGPT  # local module

device = "cuda" if torch.cuda.is_available() else "cpu"
warmup, max_iters = 500, 10000

dl_train = DataLoader(CharDataset("input.txt", block_size=128), batch_size=64, shuffle=True, drop_last=True)
net = CharGPT(vocab_size=65, n_layer=4, n_head=4, n_embd=256).to(device)
opt = torch.optim.AdamW(net.parameters(), lr=3e-4, betas=(0.9, 0.95))
sched = LambdaLR(opt, lambda it: min(1.0, (it + 1) / warmup))
crit = nn.CrossEntropyLoss()

it = 0
data_iter = iter(dl_train)
net.train()
while it < max_iters:
    try:
        xb, yb = next(data_iter)
    except StopIteration:
        data_iter = iter(dl_train)
        xb, yb = next(data_iter)
    xb, yb = xb.to(device), yb.to(device)
    sched.step()
    logits = net(xb)
    loss = crit(logits.view(-1, logits.size(-1)), yb.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    if it % 250 == 0:
        print(f"iter {it}: loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e}")
    it += 1
