"""Step 2 of the pipeline, for images: the normalization and the targets, fit on the training
split only and kept as plain values (`state_dict()`) in every checkpoint, so eval.py and
predict.py see images exactly as training did. Images stay uint8 as decoded (data_loader.py);
the model normalizes them on its device with the channel mean and std (ImageInput, model.py).
"""

from typing import Any

from torch.utils.data import TensorDataset

import task
from config import Config
from data_files import about
from data_loader import ImageFiles, Samples
from images import Decoder


class Preprocessing:
    """How images are decoded, their channel mean and std, and the targets (task.Targets)."""

    def __init__(
        self, decoder: Decoder, mean: list[float], std: list[float], targets: task.Targets
    ) -> None:
        self.decoder, self.mean, self.std, self.targets = decoder, mean, std, targets

    @classmethod
    def fit(cls, train: Samples, cfg: Config) -> "Preprocessing":
        """Channel mean and std over the training images, from the statistics that reading
        them gathered (per image: the mean of the pixels and of their squares)."""
        mean = train.stats[:, :, 0].mean(0)
        std = (train.stats[:, :, 1].mean(0) - mean.square()).clamp(min=0).sqrt()
        with about(train.path):
            targets = task.Targets.fit(train.frame[train.target], cfg)
        return cls(train.decoder, mean.tolist(), std.clamp(min=1e-3).tolist(), targets)

    def dataset(self, samples: Samples) -> TensorDataset | ImageFiles:
        """A split as a Dataset of (uint8 image, target): in memory, or read from the files."""
        with about(samples.path):
            y = self.targets.encode(samples.frame)
        if samples.images is not None:
            return TensorDataset(samples.images, y)
        return ImageFiles(samples.frame["path"].tolist(), y, self.decoder, samples.workers)

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input."""
        return {"in_channels": len(self.decoder.mode), "mean": self.mean, "std": self.std}

    def state_dict(self) -> dict[str, Any]:
        size, mode = self.decoder.size, self.decoder.mode
        features = {"size": size, "mode": mode, "mean": self.mean, "std": self.std}
        return {"features": features, "targets": self.targets.state_dict()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Preprocessing":
        f = state["features"]
        targets = task.Targets.from_state_dict(state["targets"])
        return cls(Decoder(f["size"], f["mode"]), f["mean"], f["std"], targets)
