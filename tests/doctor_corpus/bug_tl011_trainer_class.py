# expect: TL011
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class Trainer:
    def __init__(self, model, train_ds, device):
        self.model = model.to(device)
        self.device = device
        self.loader = DataLoader(train_ds, batch_size=32, shuffle=True)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        self.criterion = nn.CrossEntropyLoss()
        # hooks used for logging activations
        self.activations = {}
        model.register_forward_hook(lambda m, i, o: self.activations.__setitem__("out", o.detach()))

    def training_step(self, batch):
        pixel_values = batch["pixel_values"].to(self.device)
        labels = batch["labels"].to(self.device)
        logits = self.model.forward(pixel_values)
        return self.criterion(logits, labels)

    def train(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            for batch in self.loader:
                self.optimizer.zero_grad()
                loss = self.training_step(batch)
                loss.backward()
                self.optimizer.step()
            print(f"epoch {epoch}: last loss {loss.item():.4f}")
