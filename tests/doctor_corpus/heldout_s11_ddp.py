# expect: none
import argparse
import os
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, transforms, models


def setup():
    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    return local_rank


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/datasets/cifar100")
    p.add_argument("--epochs", type=int, default=90)
    p.add_argument("--bs", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args()
    rank = setup()

    tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    train_ds = datasets.CIFAR100(args.data, train=True, transform=tf, download=False)
    val_ds = datasets.CIFAR100(args.data, train=False, transform=transforms.ToTensor())
    train_sampler = DistributedSampler(train_ds)
    val_sampler = DistributedSampler(val_ds, shuffle=False)
    train_loader = DataLoader(train_ds, batch_size=args.bs, sampler=train_sampler, num_workers=8, pin_memory=True)
    val_loader = DataLoader(val_ds, batch_size=args.bs, sampler=val_sampler, num_workers=8)

    model = models.resnet18(num_classes=100).cuda(rank)
    model = DDP(model, device_ids=[rank])
    criterion = nn.CrossEntropyLoss().cuda(rank)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    for epoch in range(args.epochs):
        train_sampler.set_epoch(epoch)
        model.train()
        for images, targets in train_loader:
            images = images.cuda(rank, non_blocking=True)
            targets = targets.cuda(rank, non_blocking=True)
            loss = criterion(model(images), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()

        model.eval()
        correct = torch.zeros(1, device=f"cuda:{rank}")
        with torch.no_grad():
            for images, targets in val_loader:
                images, targets = images.cuda(rank), targets.cuda(rank)
                correct += (model(images).argmax(1) == targets).sum()
        dist.all_reduce(correct)
        if rank == 0:
            print(f"epoch {epoch} acc {correct.item() / len(val_ds):.4f}")
            torch.save(model.module.state_dict(), "ddp_r18.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
