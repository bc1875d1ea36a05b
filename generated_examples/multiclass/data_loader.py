"""Steps 1 and 3 of the pipeline, for a table: read it, split it, serve mini-batches.

    1. load_data()    reads cfg.data (CSV or Parquet; --val-data / --test-data when given),
                      skips rows with a missing target and splits the rows into train/val/test
    3. make_loader()  mini-batches (x, y) of a split's features and targets (preprocessing.py
                      turns a split into them: step 2)

predict.py reads new rows with load_inputs(). Shared helpers are in data_files.py.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import TensorDataset

import task
from config import Config
from data_files import (
    Splits,
    TensorLoader,
    about,
    check_columns,
    drop_missing_targets,
    extra_files,
    read_table,
    split_rows,
)
from distributed import Processes
from utils import DataError


@dataclass
class Samples:
    """The rows of one split as read, targets included, and the file they came from."""

    table: pd.DataFrame
    path: Path


def load_data(cfg: Config, saved: dict[str, Any] | None = None) -> Splits:
    """The train/val/test rows: the same ones in every run with the same data, seed and sizes,
    so eval.py tests on exactly the rows training held out. `saved` is a checkpoint's
    preprocessing (its target was checked when that run started)."""
    if not cfg.target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    path, files = Path(cfg.data), extra_files(cfg)
    frame = read_labelled(path, cfg.target)
    if saved is None:
        with about(path):  # fail early, before splitting, if the target does not fit the task
            task.Targets.fit(frame[cfg.target], cfg)
    rows = split_rows(frame, cfg.target, cfg, path, files)
    parts = {part: Samples(frame.iloc[index], path) for part, index in rows.items()}
    for part, file in files.items():
        parts[part] = Samples(read_labelled(file, cfg.target), file)
    return Splits(parts["train"], parts["val"], parts["test"])


def read_labelled(path: Path, target: list[str]) -> pd.DataFrame:
    """A table with its target column(s); rows with a missing target are skipped."""
    frame = read_table(path, exact=target)
    check_columns(frame, target, path)
    return drop_missing_targets(frame, target, path)


def make_loader(
    dataset: TensorDataset, batch_size: int, procs: Processes, shuffle: bool = False, seed: int = 0
) -> TensorLoader:
    """Mini-batches (x, y) of a split, x (B, F) float32 features; with `shuffle`, a new order
    every epoch (set_epoch). The tensors move to the device once, for the whole run."""
    return TensorLoader(dataset, batch_size, procs, shuffle, seed)


def load_inputs(path: Path, preprocessing: Any) -> tuple[pd.DataFrame, torch.Tensor]:
    """New rows to predict on (target columns, if present, are ignored): their line numbers,
    and their features made with the training statistics."""
    frame = read_table(path)
    x = preprocessing.transform(frame, path)
    return pd.DataFrame({frame.index.name: frame.index}), x
