# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms
from tqdm import tqdm

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
accum_steps = 4

tfm = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
train_ds = datasets.ImageFolder("data/train", transform=tfm)
train_loader = DataLoader(train_ds, batch_size=16, shuffle=True, num_workers=4)

model = models.resnet18(num_classes=len(train_ds.classes)).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

optimizer.zero_grad()
for epoch in range(3):
    model.train()
    running_loss = 0.0
    for i, (x, y) in enumerate(tqdm(train_loader)):
        x, y = x.to(device), y.to(device)
        loss = criterion(model(x), y) / accum_steps
        loss.backward()
        running_loss += loss.item() * accum_steps
        if (i + 1) % accum_steps == 0 or (i + 1) == len(train_loader):
            optimizer.step()
            optimizer.zero_grad()
    print(f"epoch {epoch}: {running_loss / len(train_loader):.4f}")

torch.save(model.state_dict(), "resnet18_finetuned.pt")
