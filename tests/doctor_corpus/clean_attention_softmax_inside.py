# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class AttentionPoolClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, dim=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.score = nn.Linear(dim, 1)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        weights = torch.softmax(self.score(h).squeeze(-1), dim=1)
        pooled = (weights.unsqueeze(-1) * h).sum(dim=1)
        return self.classifier(self.dropout(pooled))


def train(model, loader, optimizer, criterion, device):
    model.train()
    for tokens, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(tokens), labels)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    correct = 0
    for tokens, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        correct += (model(tokens).argmax(-1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(train_ds, val_ds, vocab_size, num_classes, epochs=5):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = AttentionPoolClassifier(vocab_size, num_classes).to(device)
    train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=128)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        train(model, train_loader, optimizer, criterion, device)
        print(f"epoch {epoch}: val acc {evaluate(model, val_loader, device):.3f}")


if __name__ == "__main__":
    from data import load_agnews  # local module

    main(*load_agnews())
