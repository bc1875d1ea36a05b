# expect: TL002
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class TextCNN(nn.Module):
    def __init__(self, vocab_size, num_classes, dim=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, 100, kernel_size=3, padding=1)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(100, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens).transpose(1, 2)
        h = torch.relu(self.conv(h)).max(dim=2).values
        logits = self.classifier(self.dropout(h))
        return logits.softmax(dim=-1)


class Trainer:
    def __init__(self, net, train_ds, val_ds, device):
        self.net = net.to(device)
        self.device = device
        self.crit = nn.CrossEntropyLoss(label_smoothing=0.1)
        self.opt = torch.optim.Adam(net.parameters(), lr=3e-4)
        self.dl_train = DataLoader(train_ds, batch_size=32, shuffle=True)
        self.dl_val = DataLoader(val_ds, batch_size=128)

    def train_epoch(self):
        self.net.train()
        for tokens, labels in self.dl_train:
            tokens, labels = tokens.to(self.device), labels.to(self.device)
            self.opt.zero_grad()
            loss = self.crit(self.net(tokens), labels)
            loss.backward()
            self.opt.step()

    @torch.no_grad()
    def validate(self):
        self.net.eval()
        correct = 0
        for tokens, labels in self.dl_val:
            tokens, labels = tokens.to(self.device), labels.to(self.device)
            correct += (self.net(tokens).argmax(-1) == labels).sum().item()
        return correct / len(self.dl_val.dataset)

    def fit(self, epochs=5):
        for epoch in range(epochs):
            self.train_epoch()
            print(f"epoch {epoch}: val acc {self.validate():.3f}")
