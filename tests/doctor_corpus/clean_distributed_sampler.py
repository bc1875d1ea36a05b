# expect: none
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, models, transforms


def main():
    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank)

    tfm = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
    train_ds = datasets.CIFAR10("data", train=True, download=False, transform=tfm)
    sampler = DistributedSampler(train_ds) if dist.get_world_size() > 1 else None
    train_loader = DataLoader(train_ds, batch_size=128, shuffle=(sampler is None), sampler=sampler, num_workers=4, pin_memory=True)

    model = DDP(models.resnet18(num_classes=10).to(device), device_ids=[local_rank])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(50):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        if dist.get_rank() == 0:
            print(f"epoch {epoch}: {loss.item():.4f}")
            torch.save(model.module.state_dict(), "ddp_resnet18.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
