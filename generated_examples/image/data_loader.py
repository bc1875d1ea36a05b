"""Read the data, check it, split it, preprocess it and serve mini-batches.

Preprocessing is fit on the training split only and kept as plain values (`state_dict()`),
stored in every checkpoint, so eval.py and predict.py transform data exactly as training did.
A problem with the data stops the run before any training step, with one line naming the
file, the column and the line. Problems that training can work around (a constant column, an
unreadable image, ...) are skipped with a warning, or stop the run too with --strict-data.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, DistributedSampler

import task
from config import Config
from utils import UserError


class DataError(UserError):
    """A problem with the data, reported as one line before any training step."""


def warn(message: str, strict: bool, details: list[str] | None = None) -> None:
    """A data problem training can work around: a warning, or an error with --strict-data."""
    if strict:
        first = f"; {details[0]}" if details else ""
        raise DataError(f"{message}{first} (stopping: --strict-data)")
    print(f"warning: {message}")
    for line in (details or [])[:20]:
        print(f"  {line}")
    if details and len(details) > 20:
        print(f"  ... and {len(details) - 20} more")


@dataclass
class Split:
    x: torch.Tensor  # (N, C, H, W) uint8 images; the model normalizes them
    y: torch.Tensor  # targets, dtype and shape as task.py documents

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device) -> "Split":
        return Split(self.x.to(device), self.y.to(device))

    def batches(
        self, batch_size: int, sampler: DistributedSampler | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Mini-batches by slicing the in-memory tensors: all samples in order, or this
        process's shuffled share of them (`sampler`, see epoch_sampler()).

        One indexing operation per batch instead of a DataLoader's `batch_size` __getitem__
        calls plus a collate: several times faster on data that fits in memory.
        """
        if sampler is None:
            yield from zip(self.x.split(batch_size), self.y.split(batch_size), strict=True)
            return
        order = torch.tensor(list(sampler), dtype=torch.int64, device=self.y.device)
        for index in order.split(batch_size):
            yield self.x[index], self.y[index]

    def inputs(self, batch_size: int) -> Iterator[torch.Tensor]:
        """The inputs in order, batch by batch (for evaluation)."""
        return iter(self.x.split(batch_size))

    def subset(self, index: np.ndarray) -> "Split":
        rows = torch.from_numpy(index)
        return Split(self.x[rows], self.y[rows])


def epoch_sampler(
    n: int, seed: int, epoch: int, rank: int = 0, world: int = 1
) -> DistributedSampler:
    """The training samples of one epoch for process `rank` of `world`: a shuffle seeded by
    seed + epoch, the same in every process, run and resume, dealt out round-robin so each
    process gets its own ceil(n / world) samples (a few repeated to make the shares equal).
    With one process it is a plain seeded shuffle of all n samples."""
    sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return sampler


# ---------------------------------------------------------------------------------------------
# Tables and splits


def read_table(path: Path, exact: list[str] | None = None) -> pd.DataFrame:
    """A CSV file (comma, semicolon, tab or pipe separated) or a Parquet file, indexed by line
    number (the header is line 1; Parquet rows count from 1). CSV columns of decimals are read
    as float32, half the memory of float64; `exact` columns (the targets) keep float64."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        else:
            frame = read_csv(path, exact or [])
            frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    except ImportError as e:
        raise DataError(f"{path}: reading Parquet needs pyarrow ({e})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{path}: cannot parse it ({e})") from None
    if frame.empty:
        raise DataError(f"{path}: no data rows, only a header")
    return frame


def read_csv(path: Path, exact: list[str]) -> pd.DataFrame:
    with path.open(encoding="utf-8", errors="replace") as f:
        header, first_row = f.readline(), f.readline()
    separator = max([",", ";", "\t", "|"], key=header.count)
    options: dict[str, Any] = {"sep": separator if separator in header else ",", "na_values": "?"}
    if options["sep"] != ",":
        # Semicolon-separated files often write decimals with a comma: 1,5 for 1.5.
        if options["sep"] == ";" and re.search(r"(^|;)\s*-?\d+,\d+\s*(;|$)", first_row):
            options["decimal"] = ","
        how = " with decimal commas" if "decimal" in options else ""
        print(f"note: {path}: reading {options['sep']!r}-separated values{how}")
    head = pd.read_csv(path, nrows=1000, **options)
    decimals = [c for c in head.columns if head[c].dtype == np.float64 and c not in exact]
    try:
        return pd.read_csv(path, dtype=dict.fromkeys(decimals, np.float32), **options)
    except ValueError:  # text further down a column of numbers: read it as it is
        return pd.read_csv(path, **options)


def read_labelled(path: Path, target: list[str]) -> pd.DataFrame:
    """A table with its target column(s); rows with a missing target are skipped."""
    frame = read_table(path, exact=target)
    check_columns(frame, target, path)
    return drop_missing_targets(frame, target, path)


def check_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(map(repr, frame.columns[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise DataError(f"{path}: no column(s) {missing}; its columns are {names}")


def drop_missing_targets(frame: pd.DataFrame, target: list[str], path: Path) -> pd.DataFrame:
    missing = frame[target].isna().any(axis=1)
    if missing.all():
        raise DataError(f"{path}: every row has a missing target {target}")
    if missing.any():
        print(f"note: {path}: skipped {int(missing.sum())} row(s) with a missing target")
        frame = frame[~missing]
    return frame


def split_rows(
    frame: pd.DataFrame, target: list[str], cfg: Config, path: Path, files: dict[str, Path]
) -> dict[str, np.ndarray]:
    """Row positions of the train/val/test splits, fixed by cfg.seed so eval.py sees the same
    test rows. A split read from its own file (`files`) takes no rows. For classification,
    each class is split in the same proportions."""
    fractions = {"val": cfg.val_size, "test": cfg.test_size} | dict.fromkeys(files, 0.0)
    rng = np.random.default_rng(cfg.seed)
    groups = frame[target[0]].map(str).to_numpy() if task.STRATIFY else None
    if groups is None:
        members = [np.arange(len(frame))]
    else:
        codes = np.unique(groups, return_inverse=True)[1]
        members = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for index in members:
        index = rng.permutation(index)
        n_test = round(len(index) * fractions["test"])
        n_val = round(len(index) * fractions["val"])
        parts["test"].append(index[:n_test])
        parts["val"].append(index[n_test : n_test + n_val])
        parts["train"].append(index[n_test + n_val :])
    rows = {part: np.sort(np.concatenate(p)) for part, p in parts.items()}
    names = {"train": "training", "val": "validation", "test": "test"}
    for part, index in rows.items():
        if part in files:
            continue
        if len(index) == 0:
            raise DataError(
                f"{path}: the {names[part]} split is empty ({len(frame)} samples, "
                f"val_size={cfg.val_size}, test_size={cfg.test_size}): use more data or larger "
                "fractions"
            )
        if groups is not None and part != "train":
            absent = sorted(set(groups) - set(groups[index]))
            if absent:
                warn(
                    f"{path}: too few samples of class(es) {absent[:10]} for any to land in the "
                    f"{names[part]} split",
                    cfg.strict_data,
                )
    return rows


def extra_files(cfg: Config) -> dict[str, Path]:
    """Validation and test data given as their own files instead of split off cfg.data."""
    given = {"val": cfg.val_data, "test": cfg.test_data}
    return {part: Path(file) for part, file in given.items() if file}


@contextmanager
def about(path: Path) -> Iterator[None]:
    """Name the file in errors from task.py's target checks, which do not know it."""
    try:
        yield
    except DataError:
        raise
    except UserError as e:
        raise DataError(f"{path}: {e}") from None


# ---------------------------------------------------------------------------------------------
# Images

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def list_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The image files and the other files under `folder` (recursively, hidden ones left out),
    each in a fixed order."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    return images, [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]


def read_samples(path: Path, target: list[str], strict: bool) -> tuple[pd.DataFrame, list[str]]:
    """Image paths and their targets, from a folder with one sub-folder per class (the
    sub-folder name is the class) or from a CSV with a `path` column (relative to the CSV's
    folder) and target column(s). Returns the table and its target column names."""
    if not path.exists():
        raise DataError(f"{path}: no such folder or file")
    if path.is_dir():
        rows, others, empty = [], [], []
        for folder in sorted(p for p in path.iterdir() if p.is_dir() and p.name[0] != "."):
            images, other = list_files(folder)
            rows += [(str(image), folder.name) for image in images]
            others += other
            if not images:
                empty.append(folder.name)
        if not rows:
            raise DataError(f"{path}: no images in class sub-folders (expected {path}/CLASS/IMAGE)")
        if others:
            warn(f"{path}: skipped {len(others)} file(s) that are not images", strict, others)
        if empty:
            warn(f"{path}: skipped class folder(s) with no images: {empty}", strict)
        frame = pd.DataFrame(rows, columns=["path", "class"])
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="image")
        return frame, ["class"]
    frame = read_table(path, exact=target)
    if not target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    check_columns(frame, ["path", *target], path)
    frame = drop_missing_targets(frame, target, path)
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
            modes = {image_mode(p) for p in paths} - {None}  # unreadable files: see scan()
            mode = "L" if modes <= GREY_MODES else "RGB"
        return cls(cfg.image_size, mode, [], [])

    def nbytes(self, count: int) -> int:
        return count * len(self.mode) * self.size * self.size

    def decode(self, path: str) -> torch.Tensor:
        """(C, H, W) uint8, or a DataError naming the file."""
        try:
            with Image.open(path) as image:
                image = image.convert(self.mode).resize((self.size, self.size), Image.BILINEAR)
                array = np.asarray(image).reshape(self.size, self.size, -1)
        except FileNotFoundError:
            raise DataError(f"{path}: image file not found") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
            raise DataError(f"{path}: cannot read the image ({e})") from None
        return torch.from_numpy(array.copy()).permute(2, 0, 1)

    def scan(
        self, paths: list[str], keep: bool
    ) -> tuple[torch.Tensor | None, torch.Tensor, np.ndarray, list[str]]:
        """Decode every image once, before training. Returns the decoded images (when `keep`),
        per-image channel statistics (N, C, 2) for fit(), a mask of the readable files and,
        for each unreadable one, its path and what is wrong with it."""
        shape = (len(paths), len(self.mode), self.size, self.size)
        images = torch.empty(shape, dtype=torch.uint8) if keep else None
        stats = torch.empty(len(paths), len(self.mode), 2, dtype=torch.float64)
        ok, problems = np.ones(len(paths), dtype=bool), []
        for i, p in enumerate(paths):
            try:
                image = self.decode(p)
            except DataError as e:
                ok[i] = False
                problems.append(str(e))
                continue
            pixels = image.flatten(1).double().div_(255)
            stats[i, :, 0], stats[i, :, 1] = pixels.mean(1), pixels.square().mean(1)
            if images is not None:
                images[i] = image
        mask = torch.from_numpy(ok)
        return (None if images is None else images[mask]), stats[mask], ok, problems

    def fit(self, stats: torch.Tensor) -> None:
        """Channel mean and std over the training images, from scan()'s statistics."""
        mean = stats[:, :, 0].mean(0)
        std = (stats[:, :, 1].mean(0) - mean.square()).clamp(min=0).sqrt()
        self.mean, self.std = mean.tolist(), std.clamp(min=1e-3).tolist()

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "mode": self.mode, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "ImageFeatures":
        return cls(state["size"], state["mode"], state["mean"], state["std"])


def image_mode(path: str) -> str | None:
    """The colour mode from the file header, without decoding the pixels (None if unreadable:
    the scan reports it)."""
    try:
        with Image.open(path) as image:
            return image.mode
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


class ImageFiles(Dataset):
    """Images decoded from their files on every pass, by DataLoader worker processes: for data
    too big to keep decoded in memory (--cache-mb). Same interface as Split."""

    def __init__(
        self, paths: list[str], y: torch.Tensor, features: ImageFeatures, workers: int
    ) -> None:
        self.paths, self.y, self.features, self.workers = paths, y, features, workers
        self.pin_memory = False

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features.decode(self.paths[i]), self.y[i]

    def to(self, device: torch.device) -> "ImageFiles":
        """The files stay on disk; on CUDA, batches go through pinned memory."""
        self.pin_memory = device.type == "cuda"
        return self

    def batches(
        self, batch_size: int, sampler: DistributedSampler | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Mini-batches of all samples in order, or of this process's shuffled share of them
        (`sampler`, see epoch_sampler())."""
        seed = sampler.seed + sampler.epoch if sampler is not None else 0
        loader = DataLoader(
            self,
            batch_size=batch_size,
            sampler=sampler,
            generator=torch.Generator().manual_seed(seed),  # worker seeds; leaves the global RNG
            num_workers=self.workers,
            pin_memory=self.pin_memory,
        )
        return iter(loader)

    def inputs(self, batch_size: int) -> Iterator[torch.Tensor]:
        return (x for x, _ in self.batches(batch_size))

    def subset(self, index: np.ndarray) -> "ImageFiles":
        paths = [self.paths[i] for i in index]
        return ImageFiles(paths, self.y[torch.from_numpy(index)], self.features, self.workers)


def scan_samples(
    frame: pd.DataFrame,
    target: list[str],
    features: ImageFeatures,
    keep: bool,
    cfg: Config,
    path: Path,
) -> tuple[pd.DataFrame, torch.Tensor | None, torch.Tensor]:
    """Decode every listed image before training; unreadable ones (missing, corrupt,
    truncated, not an image) are reported by path and skipped, or stop the run with
    --strict-data. Returns the readable rows, their images (when `keep`) and statistics."""
    images, stats, ok, problems = features.scan(frame["path"].tolist(), keep)
    if problems:
        warn(f"{path}: skipped {len(problems)} unreadable image(s)", cfg.strict_data, problems)
        classes = set(frame[target[0]].map(str))
        frame = frame[ok]
        if frame.empty:
            raise DataError(f"{path}: none of the images can be read")
        lost = sorted(classes - set(frame[target[0]].map(str)))
        if lost and task.STRATIFY:
            warn(f"{path}: no readable images left of class(es) {lost[:10]}", cfg.strict_data)
    return frame, images, stats


@dataclass
class Splits:
    train: Split | ImageFiles
    val: Split | ImageFiles
    test: Split | ImageFiles
    features: ImageFeatures
    targets: task.Targets

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input."""
        f = self.features
        return {"in_channels": len(f.mode), "mean": f.mean, "std": f.std}

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(), "targets": self.targets.state_dict()}


def load_splits(cfg: Config, state: dict[str, Any] | None = None) -> Splits:
    """Read cfg.data (and cfg.val_data / cfg.test_data, when given) and return the train/val/
    test splits, decoded into memory when they fit in cfg.cache_mb. With `state` (from a
    checkpoint) the saved preprocessing is reused instead of being fit again."""
    path, files = Path(cfg.data), extra_files(cfg)
    frame, target = read_samples(path, cfg.target, cfg.strict_data)
    extra = {part: read_samples(file, target, cfg.strict_data)[0] for part, file in files.items()}
    if state is None:
        features = ImageFeatures.for_files(frame["path"].tolist(), cfg)
    else:
        features = ImageFeatures.from_state_dict(state["features"])
    total = len(frame) + sum(map(len, extra.values()))
    keep = features.nbytes(total) <= cfg.cache_mb * 2**20
    if not keep:
        print(f"note: {total} images exceed --cache-mb {cfg.cache_mb}: decoding them every epoch")

    frame, images, stats = scan_samples(frame, target, features, keep, cfg, path)
    if state is None:
        with about(path):  # fail early, before splitting, if the target does not fit the task
            task.Targets.fit(frame[target], cfg)
    rows = split_rows(frame, target, cfg, path, files)
    if state is None:
        with about(path):
            targets = task.Targets.fit(frame[target].iloc[rows["train"]], cfg)
        features.fit(stats[torch.from_numpy(rows["train"])])
    else:
        targets = task.Targets.from_state_dict(state["targets"])

    def as_split(
        table: pd.DataFrame, images: torch.Tensor | None, file: Path
    ) -> Split | ImageFiles:
        with about(file):
            y = targets.encode(table[target])
        if images is not None:
            return Split(images, y)
        return ImageFiles(table["path"].tolist(), y, features, cfg.workers)

    whole = as_split(frame, images, path)
    splits = {part: whole.subset(index) for part, index in rows.items() if part not in files}
    for part, file in files.items():
        table, part_images, _ = scan_samples(extra[part], target, features, keep, cfg, file)
        splits[part] = as_split(table, part_images, file)
    return Splits(splits["train"], splits["val"], splits["test"], features, targets)


def load_inputs(path: Path, state: dict[str, Any]) -> tuple[pd.DataFrame, torch.Tensor]:
    """Images to predict on: one image file, a folder (searched recursively) or a CSV with a
    `path` column. Returns the paths of the readable ones and their decoded images."""
    if path.is_dir():
        paths = [str(p) for p in list_files(path)[0]]
    elif path.suffix.lower() in {".csv", ".parquet", ".pq"}:
        frame = read_table(path)
        check_columns(frame, ["path"], path)
        paths = [str(path.parent / p) for p in frame["path"].map(str)]
    elif path.exists():
        paths = [str(path)]
    else:
        raise DataError(f"{path}: no such file or folder")
    if not paths:
        raise DataError(f"{path}: no image files found")
    images, _, ok, problems = ImageFeatures.from_state_dict(state["features"]).scan(paths, True)
    if not ok.any():
        raise DataError(problems[0] if len(paths) == 1 else f"{path}: no readable images")
    if problems:
        warn(f"{path}: skipped {len(problems)} unreadable image(s)", False, problems)
    return pd.DataFrame({"path": [p for p, good in zip(paths, ok, strict=True) if good]}), images
