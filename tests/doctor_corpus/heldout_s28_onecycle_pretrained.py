# expect: TL008, TL012
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import models
from audio_ds import SpectrogramDataset

device = torch.device("cuda")
EPOCHS, BS, MAX_LR = 20, 48, 1e-3

train_ds = SpectrogramDataset("esc50/meta.csv", folds=[1, 2, 3, 4])
val_ds = SpectrogramDataset("esc50/meta.csv", folds=[5])
train_dl = DataLoader(train_ds, batch_size=BS, shuffle=True, num_workers=6)
val_dl = DataLoader(val_ds, batch_size=BS, num_workers=6)

net = models.resnet34()
state = torch.load("weights/resnet34_audioset.pth")
net.load_state_dict(state, strict=False)
net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
net.fc = nn.Linear(net.fc.in_features, 50)
net = net.to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(net.parameters(), lr=MAX_LR, weight_decay=1e-2)
sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, epochs=EPOCHS, steps_per_epoch=len(train_dl))

for epoch in range(EPOCHS):
    net.train()
    for spec, target in train_dl:
        sched.step()
        spec, target = spec.to(device), target.to(device)
        optimizer.zero_grad()
        loss = criterion(net(spec), target)
        loss.backward()
        optimizer.step()
    net.eval()
    hits = 0
    with torch.no_grad():
        for spec, target in val_dl:
            spec, target = spec.to(device), target.to(device)
            hits += (net(spec).argmax(1) == target).sum().item()
    print(f"epoch {epoch}: acc {hits / len(val_ds):.3f}, lr {sched.get_last_lr()[0]:.2e}")
