# expect: none
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision.datasets import OxfordIIITPet
from torchvision import transforms as T
import segmentation_models_pytorch as smp

DEVICE = "cuda"
EPOCHS = 25

img_tf = T.Compose([T.Resize((256, 256)), T.ToTensor()])
mask_tf = T.Compose([T.Resize((256, 256), interpolation=T.InterpolationMode.NEAREST), T.PILToTensor()])
train_ds = OxfordIIITPet("data", split="trainval", target_types="segmentation", transform=img_tf,
                         target_transform=mask_tf, download=True)
test_ds = OxfordIIITPet("data", split="test", target_types="segmentation", transform=img_tf, target_transform=mask_tf)
train_dl = DataLoader(train_ds, batch_size=16, shuffle=True, num_workers=4)
test_dl = DataLoader(test_ds, batch_size=16, num_workers=4)

model = smp.Unet("resnet34", encoder_weights="imagenet", classes=3).to(DEVICE)
dice = smp.losses.DiceLoss("multiclass")
ce = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters(), lr=3e-4)
train_losses, val_losses = [], []

for epoch in range(EPOCHS):
    model.train()
    epoch_loss = 0.0
    for imgs, masks in train_dl:
        imgs = imgs.to(DEVICE)
        masks = (masks.squeeze(1).long() - 1).to(DEVICE)
        opt.zero_grad()
        logits = model(imgs)
        loss = ce(logits, masks) + dice(logits, masks)
        loss.backward()
        opt.step()
        epoch_loss += loss.item() * imgs.size(0)
    train_losses.append(epoch_loss / len(train_ds))

    model.eval()
    vloss = 0.0
    with torch.no_grad():
        for imgs, masks in test_dl:
            imgs = imgs.to(DEVICE)
            masks = (masks.squeeze(1).long() - 1).to(DEVICE)
            logits = model(imgs)
            vloss += (ce(logits, masks) + dice(logits, masks)).item() * imgs.size(0)
    val_losses.append(vloss / len(test_ds))
    print(f"epoch {epoch}: train {train_losses[-1]:.4f} val {val_losses[-1]:.4f}")
torch.save(model.state_dict(), "unet_pets.pt")
