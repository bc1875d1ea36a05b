"""Steps 1 and 3 of the pipeline, for images: load_data() lists them (a folder with one
sub-folder per class, or a CSV of path,target), decodes each once to one size and colour mode
(unreadable ones are skipped with a warning) and splits them into train/val/test; make_loader()
serves mini-batches (x, y), x (B, C, H, W) uint8: from memory when the decoded images fit in
--cache-mb, else decoded from their files by DataLoader workers every epoch. predict.py reads
new images with load_inputs()."""

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

import data_files
import tables
import task
from config import Config
from distributed import Processes
from images import Decoder, list_files, read_samples
from utils import DataError, warn


@dataclasses.dataclass
class Samples:
    """The images of one split as read: their table (path and target columns), the decoded images
    (None: decoded every epoch instead), per-image channel statistics (N, C, 2), the decoder."""

    frame: pd.DataFrame
    target: list[str]
    images: torch.Tensor | None
    stats: torch.Tensor
    path: Path
    decoder: "Decoder"
    workers: int


def load_data(cfg: Config, checkpoint: dict | None = None, check: bool = True) -> data_files.Splits:
    """The train/val/test images: the same ones in every run with the same data, seed and
    sizes, so eval.py tests on exactly the images training held out. With the `checkpoint` of
    that run, its size and colour mode are used again, and data that changed since is refused
    (unless not `check`: eval.py --test-data)."""
    path, files = Path(cfg.data), data_files.extra_files(cfg)
    frame, target = read_samples(path, cfg.target, cfg)
    extra = {part: read_samples(file, target, cfg)[0] for part, file in files.items()}
    sha256 = data_files.fingerprint(path, checkpoint if check else None)
    if checkpoint is None:
        decoder = Decoder.for_files(frame["path"].tolist(), cfg)
    else:
        saved = checkpoint["preprocessing"]["features"]
        decoder = Decoder(saved["size"], saved["mode"])
    total = len(frame) + sum(map(len, extra.values()))
    keep = total * len(decoder.mode) * decoder.size**2 <= cfg.cache_mb * 2**20  # decoded bytes
    if not keep:
        print(f"note: {total} images exceed --cache-mb {cfg.cache_mb}: decoding them every epoch")

    def samples(table: pd.DataFrame, file: Path) -> Samples:
        table, images, stats = scan_samples(table, target, decoder, keep, cfg, file)
        return Samples(table, target, images, stats, file, decoder, cfg.workers)

    whole = samples(frame, path)
    if checkpoint is None:
        with data_files.about(path):  # fail before splitting if the target does not fit the task
            task.Targets.fit(whole.frame[target], cfg)
    rows = data_files.split_rows(whole.frame, target, cfg, path, files)
    parts = {part: subset(whole, index) for part, index in rows.items()}
    for part, file in files.items():
        parts[part] = samples(extra[part], file)
    return data_files.Splits(parts["train"], parts["val"], parts["test"], sha256)


def subset(samples: Samples, index: np.ndarray) -> Samples:
    rows = torch.from_numpy(index)
    images = None if samples.images is None else samples.images[rows]
    frame, stats = samples.frame.iloc[index], samples.stats[rows]
    return dataclasses.replace(samples, frame=frame, images=images, stats=stats)


def scan_samples(
    frame: pd.DataFrame, target: list[str], decoder: Decoder, keep: bool, cfg: Config, path: Path
) -> tuple[pd.DataFrame, torch.Tensor | None, torch.Tensor]:
    """Decode every listed image before training; unreadable ones (missing, corrupt,
    truncated, not an image) are reported by path and skipped, or stop the run with
    --strict-data. Returns the readable rows, their images (when `keep`) and statistics."""
    images, stats, ok, problems = decoder.scan(frame["path"].tolist(), keep)
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


class ImageFiles(Dataset):
    """Images decoded from their files on every pass, by DataLoader worker processes: for data
    too big to keep decoded in memory (--cache-mb)."""

    def __init__(self, paths: list[str], y: torch.Tensor, decoder: Decoder, workers: int) -> None:
        self.paths, self.y, self.decoder, self.workers = paths, y, decoder, workers

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder.decode(self.paths[i]), self.y[i]


class FileLoader(data_files.EpochLoader):
    """A DataLoader over ImageFiles, epoch by epoch as TensorLoader (data_files.py)."""

    def __init__(
        self, dataset: ImageFiles, batch_size: int, procs: Processes, shuffle: bool, seed: int
    ) -> None:
        self.dataset, self.y, self.share = dataset, dataset.y, None
        if not shuffle and (index := data_files.evaluation_share(len(dataset), procs)) is not None:
            self.y, self.share = dataset.y[torch.from_numpy(index)], index.tolist()
        super().__init__(len(self.y), batch_size, procs, shuffle, seed)

    def __iter__(self) -> Any:
        loader = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=self.order() if self.shuffle else self.share,
            # Worker seeds; leaves the global RNG (dropout, augmentation) alone.
            generator=torch.Generator().manual_seed(self.seed + self.epoch if self.shuffle else 0),
            num_workers=self.dataset.workers,
            pin_memory=self.procs.device.type == "cuda",
        )
        return iter(loader)


def make_loader(
    dataset: Dataset, batch_size: int, procs: Processes, shuffle: bool = False, seed: int = 0
) -> data_files.TensorLoader | FileLoader:
    """Mini-batches (x, y) of a split, x (B, C, H, W) uint8; with `shuffle`, a new order every
    epoch (set_epoch). Decoded images move to the device once, for the whole run."""
    if isinstance(dataset, TensorDataset):
        return data_files.TensorLoader(dataset, batch_size, procs, shuffle, seed)
    return FileLoader(dataset, batch_size, procs, shuffle, seed)


def load_inputs(path: Path, preprocessing: Any) -> tuple[pd.DataFrame, torch.Tensor]:
    """Images to predict on: one image file, a folder (searched recursively) or a CSV with a
    `path` column. Returns the paths of the readable ones and their decoded images."""
    if path.is_dir():
        paths = [str(p) for p in list_files(path)[0]]
    elif path.suffix.lower() in {".csv", ".parquet", ".pq"}:
        frame = tables.read_table(path)
        data_files.check_columns(frame, ["path"], path)
        paths = [str(path.parent / p) for p in frame["path"].map(str)]
    elif path.exists():
        paths = [str(path)]
    else:
        raise DataError(f"{path}: no such file or folder")
    if not paths:
        raise DataError(f"{path}: no image files found")
    images, _, ok, problems = preprocessing.decoder.scan(paths, True)
    if not ok.any():
        raise DataError(problems[0] if len(paths) == 1 else f"{path}: no readable images")
    if problems:
        warn(f"{path}: skipped {len(problems)} unreadable image(s)", False, problems)
    return pd.DataFrame({"path": [p for p, good in zip(paths, ok, strict=True) if good]}), images
