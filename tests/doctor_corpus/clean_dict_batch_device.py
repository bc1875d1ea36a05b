# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


def move_to(batch, device):
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


class Classifier(nn.Module):
    def __init__(self, backbone, dim, n_classes):
        super().__init__()
        self.backbone = backbone
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward_features(self, pixel_values):
        return self.norm(self.backbone(pixel_values))

    def forward(self, pixel_values):
        return self.head(self.forward_features(pixel_values))


def train(model, loader, optimizer, criterion, device):
    model.train()
    for batch in loader:
        batch = move_to(batch, device)
        optimizer.zero_grad()
        loss = criterion(model(batch["pixel_values"]), batch["labels"])
        loss.backward()
        optimizer.step()


@torch.no_grad()
def embed(model, loader, device):
    model.eval()
    feats = []
    for batch in loader:
        batch = move_to(batch, device)
        feats.append(model.forward_features(batch["pixel_values"]).cpu())
    return torch.cat(feats)


def main(backbone, train_ds, gallery_ds, dim=768, n_classes=200):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Classifier(backbone, dim, n_classes).to(device)
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True, num_workers=4)
    gallery_loader = DataLoader(gallery_ds, batch_size=256, num_workers=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(10):
        train(model, train_loader, optimizer, criterion, device)
    torch.save(embed(model, gallery_loader, device), "gallery_embeddings.pt")
