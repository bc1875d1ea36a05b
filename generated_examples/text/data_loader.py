"""Steps 1 and 3 of the pipeline, for texts: load_data() reads cfg.data (CSV or Parquet, and
--val-data / --test-data), skips rows with a missing target or an empty text and splits the rows
into train/val/test; make_loader() serves mini-batches (x, y), x (B, L) token ids padded to the
longest text of the batch (preprocessing.py makes them: step 2). predict.py reads new texts
with load_inputs()."""

from collections.abc import Iterator
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
from utils import DataError, warn


@dataclass
class Samples:
    """The rows of one split as read (the text column and the targets), and their file."""

    table: pd.DataFrame
    path: Path


def load_data(cfg: Config, checkpoint: dict | None = None, check: bool = True) -> data_files.Splits:
    """The train/val/test rows: the same ones in every run with the same data, seed and sizes,
    so eval.py tests on exactly the rows training held out. With the `checkpoint` of that run,
    a data file that changed since is refused (unless not `check`: eval.py --test-data)."""
    if not cfg.target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    if cfg.text_column in cfg.target:
        raise DataError(f"'{cfg.text_column}' is the text column (--text-column): not a target")
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
    """The text column and the target column(s); rows with a missing target or no text are
    skipped (with a warning for the texts; an error with --strict-data)."""
    columns = [cfg.text_column, *cfg.target]
    frame = tables.read_table(path, columns, cfg.missing_target, cfg.encoding)  # "NA" is text
    data_files.check_columns(frame, cfg.target, path)
    frame = data_files.drop_missing_targets(frame, cfg.target, path, cfg.missing_target)
    return read_texts(frame, cfg.text_column, path, cfg.strict_data)[columns]


def read_texts(
    frame: pd.DataFrame, column: str, path: Path, strict: bool, why: str = "--text-column"
) -> pd.DataFrame:
    """The rows of `frame` whose `column` holds a text, that column as str."""
    if column not in frame.columns:
        names = ", ".join(map(repr, frame.columns[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise DataError(f"{path}: no text column '{column}' ({why}); its columns are {names}")
    texts = frame[column].astype("string").str.strip()  # missing cells stay missing
    numbers = pd.to_numeric(texts, errors="coerce").notna()
    if numbers.mean() >= 0.9:
        raise DataError(
            f"{path}: column '{column}' holds numbers ({texts[numbers].iloc[0]}), not texts: name "
            "the text column with --text-column (a table of numbers needs a tabular project)"
        )
    empty = texts.isna() | (texts == "")
    if empty.all():
        raise DataError(f"{path}: column '{column}' has no texts, only empty cells")
    if empty.any():
        lines = [f"{frame.index.name} {i}" for i in frame.index[empty]]
        warn(f"{path}: skipped {int(empty.sum())} row(s) with an empty '{column}'", strict, lines)
    return frame[~empty].assign(**{column: texts[~empty]})


class TextLoader(data_files.TensorLoader):
    """Mini-batches of token ids as data_files.TensorLoader serves them, each cut to its
    longest text: padding to the longest text of the whole split would waste time."""

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in super().__iter__():
            yield x[:, : int(x.count_nonzero(dim=1).max())], y  # 0 = padding, at the end


def make_loader(
    dataset: TensorDataset, batch_size: int, procs: Processes, shuffle: bool = False, seed: int = 0
) -> TextLoader:
    """Mini-batches (x, y) of a split, x (B, L) int64 token ids; with `shuffle`, a new order
    every epoch (set_epoch). The tensors move to the device once, for the whole run."""
    return TextLoader(dataset, batch_size, procs, shuffle, seed)


def load_inputs(path: Path, preprocessing: Any) -> tuple[pd.DataFrame, torch.Tensor]:
    """New texts to predict on (target columns, if present, are ignored): their line numbers,
    and their token ids made with the training vocabulary (rows without a text are skipped)."""
    column = preprocessing.column
    frame = tables.read_table(path, [column])
    frame = read_texts(frame, column, path, strict=False, why="the run's --text-column")
    x = preprocessing.transform(frame[column], path)
    return pd.DataFrame({frame.index.name: frame.index}), x
