# expect: none
from dataclasses import dataclass
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader


@dataclass
class Config:
    lr: float = 1e-3
    epochs: int = 10
    batch_size: int = 64
    device: str = "cuda"
    ckpt: str = "pretrained_encoder.pt"


def to_device(batch, device):
    if isinstance(batch, (list, tuple)):
        return [to_device(b, device) for b in batch]
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch.to(device, non_blocking=True)


class LitClassifier(nn.Module):
    def __init__(self, encoder, n_classes):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.out_dim, n_classes)

    def forward(self, x):
        return self.head(self.encoder(x))

    def training_step(self, batch):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch):
        x, y = batch
        logits = self(x)
        return F.cross_entropy(logits, y).item(), (logits.argmax(-1) == y).float().mean().item()

    def configure_optimizers(self, cfg):
        opt = torch.optim.Adam(self.parameters(), lr=cfg.lr)
        return opt, torch.optim.lr_scheduler.ExponentialLR(opt, 0.95)


def fit(module, train_ds, val_ds, cfg: Config):
    module.encoder.load_state_dict(torch.load(cfg.ckpt, map_location="cpu", weights_only=True))
    module.to(cfg.device)
    opt, sched = module.configure_optimizers(cfg)
    train_dl = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, num_workers=4)
    val_dl = DataLoader(val_ds, batch_size=cfg.batch_size * 4)
    for epoch in range(cfg.epochs):
        module.train()
        total = torch.zeros((), device=cfg.device)
        for batch in train_dl:
            batch = to_device(batch, cfg.device)
            loss = module.training_step(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        sched.step()
        module.eval()
        with torch.inference_mode():
            results = [module.validation_step(to_device(b, cfg.device)) for b in val_dl]
        vloss = sum(r[0] for r in results) / len(results)
        vacc = sum(r[1] for r in results) / len(results)
        print(f"epoch {epoch}: train {total.item() / len(train_dl):.4f} val {vloss:.4f} acc {vacc:.4f}")
    return module
