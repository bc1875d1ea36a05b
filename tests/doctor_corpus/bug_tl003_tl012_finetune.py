# expect: TL003, TL012
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from data import PairsDataset  # local module


class DuplicateDetector(nn.Module):
    def __init__(self, encoder, dim=256):
        super().__init__()
        self.encoder = encoder
        self.scorer = nn.Sequential(nn.Linear(dim * 2, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, a, b):
        ea, eb = self.encoder(a), self.encoder(b)
        return self.scorer(torch.cat([ea, eb], dim=-1)).squeeze(-1)


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    encoder = nn.EmbeddingBag(50000, 256)
    encoder.load_state_dict(torch.load("pretrained_encoder.pt"))
    model = DuplicateDetector(encoder).to(device)
    loader = DataLoader(PairsDataset("pairs_train.tsv"), batch_size=128, shuffle=True)
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(4):
        total = 0.0
        for a, b, label in loader:
            a, b, label = a.to(device), b.to(device), label.float().to(device)
            optimizer.zero_grad()
            loss = criterion(model(a, b), label)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
