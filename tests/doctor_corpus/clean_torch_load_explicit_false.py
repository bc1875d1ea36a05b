# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class Trainer:
    """Checkpoints are produced by this same class on our own machines, so full
    unpickling is an explicit, deliberate choice (weights_only=False)."""

    def __init__(self, model, train_ds, device="cpu"):
        self.model = model.to(device)
        self.device = device
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.crit = nn.CrossEntropyLoss()
        self.dl_train = DataLoader(train_ds, batch_size=64, shuffle=True)
        self.epoch = 0

    def save(self, path):
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "epoch": self.epoch, "rng": torch.get_rng_state()}, path)

    def load(self, path):
        state = torch.load(path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.epoch = state["epoch"]
        torch.set_rng_state(state["rng"])

    def train(self, epochs):
        while self.epoch < epochs:
            self.model.train()
            for xb, yb in self.dl_train:
                xb, yb = xb.to(self.device), yb.to(self.device)
                self.opt.zero_grad()
                loss = self.crit(self.model(xb), yb)
                loss.backward()
                self.opt.step()
            self.epoch += 1
            self.save(f"ckpt_{self.epoch:03d}.pt")
