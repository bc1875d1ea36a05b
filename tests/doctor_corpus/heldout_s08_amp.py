# expect: none
import os
import time
import torch
import torch.nn as nn
from torch.cuda.amp import GradScaler, autocast
from torch.utils.data import DataLoader
import torchvision
from torchvision import transforms as T


def get_loaders(root, bs):
    tf_train = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()])
    tf_val = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])
    tr = torchvision.datasets.ImageFolder(os.path.join(root, "train"), tf_train)
    va = torchvision.datasets.ImageFolder(os.path.join(root, "val"), tf_val)
    return (DataLoader(tr, bs, shuffle=True, num_workers=8, pin_memory=True, drop_last=True),
            DataLoader(va, bs, shuffle=False, num_workers=8, pin_memory=True))


def main():
    device = "cuda"
    train_loader, val_loader = get_loaders("/data/imagenette", 128)
    model = torchvision.models.resnet50(num_classes=10).to(device).to(memory_format=torch.channels_last)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=5e-5, nesterov=True)
    epochs = 40
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=epochs * len(train_loader))
    scaler = GradScaler()

    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        running = 0.0
        for images, target in train_loader:
            images = images.to(device, non_blocking=True).to(memory_format=torch.channels_last)
            target = target.to(device, non_blocking=True)
            with autocast():
                output = model(images)
                loss = criterion(output, target)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 2.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            running += loss.detach().float().item()

        model.eval()
        correct = 0
        with torch.inference_mode(), autocast():
            for images, target in val_loader:
                images = images.to(device, non_blocking=True)
                target = target.to(device, non_blocking=True)
                correct += (model(images).argmax(1) == target).sum().item()
        print(f"epoch {epoch} loss {running / len(train_loader):.3f} "
              f"acc {correct / len(val_loader.dataset):.3f} time {time.time() - t0:.0f}s")
    torch.save(model.state_dict(), "r50_amp.pth")


if __name__ == "__main__":
    main()
