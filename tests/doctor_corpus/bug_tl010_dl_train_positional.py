# expect: TL010
import torch
import torch.nn as nn
import torch.utils.data as tud

from speech_data import CommandsDataset, pad_collate  # local module

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

ds_train = CommandsDataset("speech_commands", subset="training")
ds_valid = CommandsDataset("speech_commands", subset="validation")
dl_train = tud.DataLoader(ds_train, 128, collate_fn=pad_collate, drop_last=True)
dl_valid = tud.DataLoader(ds_valid, 256, collate_fn=pad_collate)

net = nn.Sequential(
    nn.Conv1d(1, 32, 80, stride=16), nn.BatchNorm1d(32), nn.ReLU(), nn.MaxPool1d(4),
    nn.Conv1d(32, 64, 3), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(4),
    nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(64, 35),
).to(device)
opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=1e-4)
crit = nn.CrossEntropyLoss()

for epoch in range(20):
    net.train()
    for wav, label in dl_train:
        wav, label = wav.to(device), label.to(device)
        opt.zero_grad()
        loss = crit(net(wav), label)
        loss.backward()
        opt.step()
    net.eval()
    hits = 0
    with torch.no_grad():
        for wav, label in dl_valid:
            wav, label = wav.to(device), label.to(device)
            hits += (net(wav).argmax(-1) == label).sum().item()
    print(f"epoch {epoch}: valid acc {hits / len(ds_valid):.4f}")
