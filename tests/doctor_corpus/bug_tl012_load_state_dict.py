# expect: TL012
import argparse

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main():
    parser = argparse.ArgumentParser(description="evaluate a trained checkpoint")
    parser.add_argument("checkpoint")
    parser.add_argument("--data", default="data/test")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tfm = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
    ds = datasets.ImageFolder(args.data, transform=tfm)
    loader = DataLoader(ds, batch_size=64, shuffle=False)

    model = models.resnet50(num_classes=len(ds.classes))
    model.load_state_dict(torch.load(args.checkpoint))
    model.to(device)
    print(f"accuracy: {evaluate(model, loader, device):.4f}")


if __name__ == "__main__":
    main()
