"""Steps 1 and 3 of the pipeline, for a table: load_data() reads cfg.data (CSV or Parquet, and
--val-data / --test-data), skips rows with a missing target and splits the rows into
train/val/test; make_loader() serves mini-batches (x, y) of a split's features and targets
(preprocessing.py makes them: step 2). predict.py reads new rows with load_inputs()."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import TensorDataset

import data_files
import tables
import task
from config import Config
from distributed import Processes
from utils import DataError


@dataclass
class Samples:
    """The rows of one split as read, targets included, and the file they came from."""

    table: pd.DataFrame
    path: Path


def load_data(cfg: Config, checkpoint: dict | None = None, check: bool = True) -> data_files.Splits:
    """The train/val/test rows: the same ones in every run with the same data, seed and sizes,
    so eval.py tests on exactly the rows training held out. With the `checkpoint` of that run,
    a data file that changed since is refused (unless not `check`: eval.py --test-data)."""
    if not cfg.target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    path, files = Path(cfg.data), data_files.extra_files(cfg)
    frame = read_labelled(path, cfg)
    sha256 = data_files.fingerprint(path, checkpoint if check else None)
    if checkpoint is None:
        with data_files.about(path):  # fail before splitting if the target does not fit the task
            task.Targets.fit(frame[cfg.target], cfg)
    rows = data_files.split_rows(frame, cfg.target, cfg, path, files)
    parts = {part: Samples(frame.iloc[index], path) for part, index in rows.items()}
    for part, file in files.items():
        parts[part] = Samples(read_labelled(file, cfg), file)
    return data_files.Splits(parts["train"], parts["val"], parts["test"], sha256)


def read_labelled(path: Path, cfg: Config) -> pd.DataFrame:
    """A table with its target column(s); rows with a missing target are skipped."""
    frame = tables.read_table(path, cfg.target, cfg.missing_target, cfg.encoding)
    data_files.check_columns(frame, cfg.target, path)
    return data_files.drop_missing_targets(frame, cfg.target, path, cfg.missing_target)


def make_loader(
    dataset: TensorDataset, batch_size: int, procs: Processes, shuffle: bool = False, seed: int = 0
) -> data_files.TensorLoader:
    """Mini-batches (x, y) of a split, x (B, F) float32 features; with `shuffle`, a new order
    every epoch (set_epoch). The tensors move to the device once, for the whole run."""
    return data_files.TensorLoader(dataset, batch_size, procs, shuffle, seed)


def load_inputs(path: Path, preprocessing: Any) -> tuple[pd.DataFrame, torch.Tensor]:
    """New rows to predict on (target columns, if present, are ignored): their line numbers,
    and their features made with the training statistics."""
    frame = tables.read_table(path)
    x = preprocessing.transform(frame, path)
    return pd.DataFrame({frame.index.name: frame.index}), x
