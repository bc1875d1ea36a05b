# expect: TL004
import logging
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

log = logging.getLogger(__name__)


class Trainer:
    def __init__(self, model, train_ds, val_ds, lr=1e-3, batch_size=32, device="cuda"):
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, num_workers=4)
        self.val_loader = DataLoader(val_ds, batch_size=batch_size * 2, num_workers=4)
        self.history = {"train_loss": [], "val_loss": [], "val_acc": []}

    def _step(self, inputs, labels):
        inputs = inputs.to(self.device, non_blocking=True)
        labels = labels.to(self.device, non_blocking=True)
        logits = self.model(inputs)
        return self.criterion(logits, labels), logits, labels

    def train_epoch(self):
        self.model.train()
        total, n = 0.0, 0
        for inputs, labels in self.train_loader:
            self.optimizer.zero_grad()
            loss, _, _ = self._step(inputs, labels)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * inputs.size(0)
            n += inputs.size(0)
        return total / n

    def validate(self):
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for inputs, labels in self.val_loader:
                loss, logits, labels = self._step(inputs, labels)
                total += loss.item() * inputs.size(0)
                correct += (logits.argmax(1) == labels).sum().item()
                n += inputs.size(0)
        return total / n, correct / n

    def fit(self, epochs):
        for epoch in range(epochs):
            tr = self.train_epoch()
            vl, va = self.validate()
            self.history["train_loss"].append(tr)
            self.history["val_loss"].append(vl)
            self.history["val_acc"].append(va)
            log.info("epoch %d train %.4f val %.4f acc %.3f", epoch, tr, vl, va)
        return self.history

    def save(self, path):
        torch.save({"model": self.model.state_dict(), "opt": self.optimizer.state_dict()}, path)


if __name__ == "__main__":
    from torchvision import datasets, transforms, models
    tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])
    train_ds = datasets.CIFAR10("data", train=True, download=True, transform=tf)
    val_ds = datasets.CIFAR10("data", train=False, download=True, transform=tf)
    net = models.resnet18(num_classes=10)
    trainer = Trainer(net, train_ds, val_ds)
    trainer.fit(10)
    trainer.save("resnet18_cifar.pt")
