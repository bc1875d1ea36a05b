"""The model. It returns raw scores (logits, or standardized values for regression): the loss
applies the final activation itself and predict() in task.py applies it at prediction time,
so no model here ends in softmax or sigmoid.

Checkpoints store the constructor's keyword arguments as plain values ("model_args"), so
`build_model(**checkpoint["model_args"])` rebuilds the same architecture with nothing else.
"""

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from config import Config


class ImageInput(nn.Module):
    """uint8 images -> normalized float32. In training mode only, it also augments: random
    shifts of up to `crop_padding` pixels (pad, then crop) and optional horizontal flips.
    Augmenting here, on the batch and on the model's device, keeps the data pipeline a plain
    tensor slice and draws from torch's RNG, which checkpoints save for exact resume."""

    def __init__(self, mean: list[float], std: list[float], crop_padding: int, flip: bool) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        self.crop_padding, self.flip = crop_padding, flip

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) uint8 -> float32
        x = x.float().div(255)
        if self.training and self.crop_padding > 0:
            x = random_shift(x, self.crop_padding)
        if self.training and self.flip:
            flipped = torch.rand(x.shape[0], device=x.device) < 0.5
            x = torch.where(flipped.view(-1, 1, 1, 1), x.flip(3), x)
        return (x - self.mean) / self.std


def random_shift(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Shift each image by its own random offset: pad by replicating edges, then crop."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2, b, 1), device=x.device)
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


class SmallCNN(nn.Module):
    """Conv-BatchNorm-ReLU blocks (max-pooling between them), global average pooling and a
    linear head with one output per target. Works for any image size."""

    def __init__(
        self, in_channels: int, out_features: int, widths: list[int], dropout: float, **input: Any
    ) -> None:
        super().__init__()
        self.input = ImageInput(**input)  # mean, std, crop_padding, flip
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            if i > 0:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            conv = nn.Conv2d(channels, width, 3, padding=1, bias=False)
            layers += [conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, out_features)
        # channels_last: convolutions run faster in NHWC on CPU and on tensor-core GPUs.
        x = self.input(x).contiguous(memory_format=torch.channels_last)
        x = self.features(x)  # (B, widths[-1], h, w)
        return self.head(x.mean(dim=(2, 3)))  # global average pooling -> (B, widths[-1])


def model_kwargs(cfg: Config, input_args: dict[str, Any], out_features: int) -> dict[str, Any]:
    """Everything build_model needs, as plain values (stored in every checkpoint)."""
    kwargs = {"name": cfg.model, **input_args, "out_features": out_features}
    kwargs |= {"widths": cfg.widths, "dropout": cfg.dropout}
    return kwargs | {"crop_padding": cfg.crop_padding, "flip": cfg.flip}


def build_model(name: str, **args: Any) -> nn.Module:
    if name != "cnn":
        raise ValueError(f"unknown model {name!r}; choose from ['cnn']")
    return SmallCNN(**args).to(memory_format=torch.channels_last)
