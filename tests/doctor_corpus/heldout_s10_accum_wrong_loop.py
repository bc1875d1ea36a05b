# expect: TL001
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms, models

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
EPOCHS = 15
ACCUM = 4

tfm = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                          transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_set = datasets.ImageFolder("data/plants/train", transform=tfm)
val_set = datasets.ImageFolder("data/plants/val", transform=tfm)
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, num_workers=4)
val_loader = DataLoader(val_set, batch_size=64, num_workers=4)

model = models.efficientnet_b0(weights="IMAGENET1K_V1")
model.classifier[1] = nn.Linear(model.classifier[1].in_features, len(train_set.classes))
model = model.to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", patience=2)

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    train_loss = 0.0
    for step, (imgs, labels) in enumerate(train_loader):
        imgs, labels = imgs.to(device), labels.to(device)
        loss = criterion(model(imgs), labels) / ACCUM
        loss.backward()
        if (step + 1) % ACCUM == 0:
            optimizer.step()
        train_loss += loss.item() * ACCUM

    model.eval()
    val_loss, correct = 0.0, 0
    with torch.no_grad():
        for imgs, labels in val_loader:
            imgs, labels = imgs.to(device), labels.to(device)
            out = model(imgs)
            val_loss += criterion(out, labels).item()
            correct += (out.argmax(1) == labels).sum().item()
    val_loss /= len(val_loader)
    scheduler.step(val_loss)
    print(f"Epoch {epoch+1}: train={train_loss/len(train_loader):.4f} val={val_loss:.4f} acc={correct/len(val_set):.3f}")
