# expect: TL010, TL012
import argparse
import os
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from dataset import SpeechCommands
from model import KWSNet


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data-root", default="./speech_commands")
    p.add_argument("--resume", default="")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=6)
    return p.parse_args()


def main():
    args = get_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set = SpeechCommands(args.data_root, subset="training")
    val_set = SpeechCommands(args.data_root, subset="validation")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, num_workers=args.workers,
                              pin_memory=True, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=args.workers)

    model = KWSNet(n_classes=35).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    start_epoch = 0
    if args.resume and os.path.isfile(args.resume):
        ckpt = torch.load(args.resume, map_location=device)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch = ckpt["epoch"] + 1
        print(f"resumed from {args.resume} (epoch {start_epoch})")

    for epoch in range(start_epoch, args.epochs):
        model.train()
        for waveforms, labels in train_loader:
            waveforms, labels = waveforms.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(waveforms), labels)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for waveforms, labels in val_loader:
                waveforms, labels = waveforms.to(device), labels.to(device)
                correct += (model(waveforms).argmax(-1) == labels).sum().item()
        print(f"epoch {epoch}: val acc {correct / len(val_set):.4f}")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch},
                   f"checkpoint_{epoch:03d}.pt")


if __name__ == "__main__":
    main()
