"""Read the data, split it, preprocess it and serve mini-batches.

Preprocessing is fit on the training split only and kept as plain values (`state_dict()`),
stored in every checkpoint, so eval.py and predict.py transform data exactly as training did.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError

import task
from config import Config
from utils import UserError


class DataError(UserError):
    """A problem with the data, reported as one line before any training step."""


@dataclass
class Split:
    x: torch.Tensor  # (N, C, H, W) uint8 images; the model normalizes them
    y: torch.Tensor  # targets, dtype and shape as task.py documents

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device) -> "Split":
        return Split(self.x.to(device), self.y.to(device))


def batches(
    split: Split, batch_size: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches by slicing the in-memory tensors; shuffled when a generator is given.

    One indexing operation per batch instead of a DataLoader's `batch_size` __getitem__ calls
    plus a collate: several times faster on data that fits in memory.
    """
    if generator is None:
        for start in range(0, len(split), batch_size):
            yield split.x[start : start + batch_size], split.y[start : start + batch_size]
        return
    order = torch.randperm(len(split), generator=generator).to(split.y.device)
    for start in range(0, len(split), batch_size):
        index = order[start : start + batch_size]
        yield split.x[index], split.y[index]


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (or Parquet) file, indexed by line number: the header is line 1."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except ImportError as e:
        raise DataError(f"{path}: reading Parquet needs pyarrow ({e})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{path}: cannot parse it ({e})") from None
    if frame.empty:
        raise DataError(f"{path}: no data rows, only a header")
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    return frame


def check_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: no column(s) {missing}; columns are {list(frame.columns)}")


def split_indices(
    n: int, groups: np.ndarray | None, cfg: Config
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train/val/test row indices, fixed by cfg.seed so eval.py sees the same test rows.
    With `groups` (class labels), each class is split in the same proportions."""
    rng = np.random.default_rng(cfg.seed)
    if groups is None:
        members = [np.arange(n)]
    else:
        codes = np.unique(groups, return_inverse=True)[1]
        members = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
    parts: tuple[list, list, list] = ([], [], [])
    for index in members:
        index = rng.permutation(index)
        n_test = round(len(index) * cfg.test_size)
        n_val = round(len(index) * cfg.val_size)
        parts[2].append(index[:n_test])
        parts[1].append(index[n_test : n_test + n_val])
        parts[0].append(index[n_test + n_val :])
    train, val, test = (np.sort(np.concatenate(p)) for p in parts)
    for name, part in ("training", train), ("validation", val), ("test", test):
        if len(part) == 0:
            raise DataError(
                f"the {name} split is empty ({n} samples, val_size={cfg.val_size}, "
                f"test_size={cfg.test_size}): use more data or larger fractions"
            )
    return train, val, test


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def list_images(folder: Path) -> list[Path]:
    """Every image file under `folder`, recursively, in a fixed order."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def read_samples(path: Path, target: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Image paths and their targets, from a folder with one sub-folder per class (the
    sub-folder name is the class) or from a CSV with a `path` column (relative to the CSV's
    folder) and target column(s). Returns the table and its target column names."""
    if path.is_dir():
        rows = [
            (str(image), folder.name)
            for folder in sorted(p for p in path.iterdir() if p.is_dir())
            for image in list_images(folder)
        ]
        if not rows:
            raise DataError(f"{path}: no images in class sub-folders (expected {path}/<class>/*)")
        frame = pd.DataFrame(rows, columns=["path", "class"])
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="image")
        return frame, ["class"]
    frame = read_table(path)
    if not target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    check_columns(frame, ["path", *target], path)
    frame["path"] = [str(path.parent / p) for p in frame["path"].map(str)]
    return frame, target


class ImageFeatures:
    """Decode image files to uint8 tensors of one size and colour mode; the channel mean and
    std of the training images go to the model, which normalizes its input."""

    def __init__(self, size: int, mode: str, mean: list[float], std: list[float]) -> None:
        self.size, self.mode, self.mean, self.std = size, mode, mean, std

    @classmethod
    def for_files(cls, paths: list[str], cfg: Config) -> "ImageFeatures":
        """Size and colour mode from the config; mode "auto" is L when every image is grey."""
        mode = cfg.image_mode
        if mode == "auto":
            mode = "L" if all(image_mode(p) in GREY_MODES for p in paths) else "RGB"
        return cls(cfg.image_size, mode, [], [])

    def fit(self, images: torch.Tensor) -> None:
        """Channel mean and std of the training images (N, C, H, W) uint8, scaled to 0..1."""
        pixels = images.float().div_(255)
        self.mean = pixels.mean(dim=(0, 2, 3)).tolist()
        self.std = pixels.std(dim=(0, 2, 3)).clamp(min=1e-3).tolist()

    def load(self, paths: list[str]) -> torch.Tensor:
        """(N, C, H, W) uint8: the whole set stays decoded in memory."""
        out = torch.empty(len(paths), len(self.mode), self.size, self.size, dtype=torch.uint8)
        for i, p in enumerate(paths):
            with open_image(p) as image:
                image = image.convert(self.mode).resize((self.size, self.size), Image.BILINEAR)
                array = np.asarray(image).reshape(self.size, self.size, -1)
            out[i] = torch.from_numpy(array.copy()).permute(2, 0, 1)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "mode": self.mode, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "ImageFeatures":
        return cls(state["size"], state["mode"], state["mean"], state["std"])


def open_image(path: str) -> Image.Image:
    """The decoded image, or a DataError naming the file."""
    try:
        image = Image.open(path)
        image.load()
        return image
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read the image ({e})") from None


def image_mode(path: str) -> str:
    """The colour mode from the file header, without decoding the pixels."""
    try:
        with Image.open(path) as image:
            return image.mode
    except (UnidentifiedImageError, OSError, ValueError):
        return open_image(path).mode  # raises the DataError


@dataclass
class Splits:
    train: Split
    val: Split
    test: Split
    features: ImageFeatures
    targets: task.Targets

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input."""
        f = self.features
        return {"in_channels": len(f.mode), "mean": f.mean, "std": f.std}

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(), "targets": self.targets.state_dict()}


def load_splits(cfg: Config, state: dict[str, Any] | None = None) -> Splits:
    """Read cfg.data and return the train/val/test splits as decoded images. With `state`
    (from a checkpoint) the saved preprocessing is reused instead of being fit again."""
    path = Path(cfg.data)
    if not path.exists():
        raise DataError(f"{path}: no such folder or file")
    frame, target = read_samples(path, cfg.target)
    frame = drop_missing_targets(frame, target, path)
    groups = frame[target[0]].map(str).to_numpy() if task.STRATIFY else None
    train, val, test = split_indices(len(frame), groups, cfg)
    paths = frame["path"].tolist()
    if state is None:
        features = ImageFeatures.for_files(paths, cfg)
        targets = task.Targets.fit(frame[target].iloc[train], cfg)
    else:
        features = ImageFeatures.from_state_dict(state["features"])
        targets = task.Targets.from_state_dict(state["targets"])
    x, y = features.load(paths), targets.encode(frame[target])
    if state is None:
        features.fit(x[torch.from_numpy(train)])
    split = [Split(x[torch.from_numpy(i)], y[torch.from_numpy(i)]) for i in (train, val, test)]
    return Splits(*split, features, targets)


def load_inputs(path: Path, state: dict[str, Any]) -> tuple[pd.DataFrame, torch.Tensor]:
    """Images to predict on: one image file, a folder (searched recursively) or a CSV with a
    `path` column. Returns their paths and the decoded images."""
    if path.is_dir():
        paths = [str(p) for p in list_images(path)]
    elif path.suffix.lower() in {".csv", ".parquet", ".pq"}:
        frame = read_table(path)
        check_columns(frame, ["path"], path)
        paths = [str(path.parent / p) for p in frame["path"].map(str)]
    else:
        paths = [str(path)]
    if not paths:
        raise DataError(f"{path}: no image files found")
    x = ImageFeatures.from_state_dict(state["features"]).load(paths)
    return pd.DataFrame({"path": paths}), x


def drop_missing_targets(frame: pd.DataFrame, target: list[str], path: Path) -> pd.DataFrame:
    kept = frame.dropna(subset=target)
    if len(kept) < len(frame):
        print(f"note: {path}: skipped {len(frame) - len(kept)} rows with a missing target")
    if kept.empty:
        raise DataError(f"{path}: every row has a missing target {target}")
    return kept
