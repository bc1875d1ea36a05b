# expect: TL007
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from dataset import ReviewsDataset  # local module
from model import TinyTransformer  # local module

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
accumulation_steps = 8

train_loader = DataLoader(ReviewsDataset("train.jsonl"), batch_size=8, shuffle=True)
model = TinyTransformer(vocab_size=30000, num_classes=2).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)

for epoch in range(3):
    model.train()
    running_loss = 0.0
    for i, (inputs, labels) in enumerate(tqdm(train_loader)):
        inputs, labels = inputs.to(device), labels.to(device)
        loss = criterion(model(inputs), labels) / accumulation_steps
        loss.backward()
        running_loss += loss * inputs.size(0)
        if (i + 1) % accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    print(f"epoch {epoch}: loss {running_loss.item() / len(train_loader.dataset):.4f}")

torch.save(model.state_dict(), "tiny_transformer.pt")
