# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms
from tqdm import tqdm

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_tfm = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
val_tfm = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
dl_train = DataLoader(datasets.ImageFolder("flowers/train", train_tfm), batch_size=32, shuffle=True, num_workers=4)
dl_val = DataLoader(datasets.ImageFolder("flowers/val", val_tfm), batch_size=64, num_workers=4)

net = models.mobilenet_v3_small(num_classes=102).to(device)
crit = nn.CrossEntropyLoss()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=4e-5)

for epoch in range(30):
    net.train()
    for i, (imgs, labels) in enumerate(tqdm(dl_train, desc=f"epoch {epoch}")):
        imgs, labels = imgs.to(device), labels.to(device)
        loss = crit(net(imgs), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()

    net.eval()
    correct = total = 0
    with torch.inference_mode():
        for imgs, labels in tqdm(dl_val, desc="val"):
            imgs, labels = imgs.to(device), labels.to(device)
            correct += (net(imgs).argmax(dim=1) == labels).sum().item()
            total += labels.size(0)
    print(f"epoch {epoch}: val acc {correct / total:.4f}")
