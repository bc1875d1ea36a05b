"""Data helpers every input type uses: the train/val/test split (step 1 of the pipeline; tables.py
reads the files), and mini-batches of tensors that live in memory (step 3).

A data problem stops the run before any training step with one line naming the file, column
and line; problems training can work around get a warning (an error with --strict-data).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DistributedSampler, TensorDataset

import tables
import task
from config import Config
from distributed import Processes
from utils import DataError, UserError, warn


class Splits(NamedTuple):
    """The samples of the train, validation and test splits, as read (before preprocessing),
    and the fingerprint of the data file they were split from (tables.fingerprint)."""

    train: Any
    val: Any
    test: Any
    sha256: str


def check_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    if missing := [c for c in columns if c not in frame.columns]:
        names = ", ".join(map(repr, frame.columns[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise DataError(f"{path}: no column(s) {missing}; its columns are {names}")


def drop_missing_targets(
    frame: pd.DataFrame, target: list[str], path: Path, tokens: list[str]
) -> pd.DataFrame:
    """The rows whose targets are all present: empty cells, and `tokens` (--missing-target),
    are missing (tables.py)."""
    missing = (frame[target].isna() | frame[target].isin(tokens)).any(axis=1)
    if missing.all():
        raise DataError(f"{path}: every row has a missing target {target}")
    if missing.any():
        what = ", ".join(["empty cells", *map(repr, tokens)])
        print(f"note: {path}: skipped {int(missing.sum())} row(s) with a missing target ({what})")
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
        n_test, n_val = (round(len(index) * fractions[part]) for part in ("test", "val"))
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
            if absent := sorted(set(groups) - set(groups[index])):
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


def fingerprint(path: Path, checkpoint: dict[str, Any] | None = None) -> str:
    """tables.fingerprint(path); with `checkpoint`, a data file that changed since that run was
    trained on it is refused: split again, it would mix training rows into the test split (or
    a resumed run would continue on other rows)."""
    sha256 = tables.fingerprint(path)
    if checkpoint is not None and checkpoint.get("data_sha256", sha256) != sha256:
        raise DataError(
            f"{path} changed since this run was trained on it (rows re-ordered, added or edited): "
            "its splits would now mix training and test rows. Restore the file, or start a new "
            "run (python eval.py --test-data FILE scores a separate labelled file)"
        )
    if checkpoint is not None and "data_sha256" not in checkpoint:
        print(f"note: the checkpoint records no fingerprint of {path}: make sure it is unchanged")
    return sha256


@contextmanager
def about(path: Path) -> Iterator[None]:
    """Name the file in errors from task.py's target checks, which do not know it."""
    try:
        yield
    except DataError:
        raise
    except UserError as e:
        raise DataError(f"{path}: {e}") from None


class EpochLoader:
    """Mini-batches, epoch by epoch. With `shuffle`, each epoch (set_epoch) is this process's
    share of a shuffle seeded by seed + epoch: the same batches in every process, run and
    resume, dealt out round-robin by DistributedSampler so each process gets ceil(n / world)
    samples (a few repeated to make the shares equal; one process: a plain seeded shuffle).
    Without, the samples in order (under torchrun: every world-th one, for evaluation)."""

    def __init__(self, n: int, batch_size: int, procs: Processes, shuffle: bool, seed: int) -> None:
        self.n, self.batch_size, self.procs = n, batch_size, procs
        self.shuffle, self.seed, self.epoch, self.skip = shuffle, seed, 0, 0
        self.samples = -(-n // procs.world) if shuffle else n  # of this process, per epoch

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Shuffle for `epoch`, leaving out its first `skip` batches (resuming mid-epoch)."""
        self.epoch, self.skip = epoch, skip

    def order(self) -> list[int]:
        """This process's samples of the epoch, in order, after the skipped batches."""
        rank, world = self.procs.rank, self.procs.world
        sampler = DistributedSampler(range(self.n), world, rank, shuffle=True, seed=self.seed)
        sampler.set_epoch(self.epoch)
        return list(sampler)[self.skip * self.batch_size :]

    def __len__(self) -> int:
        return -(-self.samples // self.batch_size)


class TensorLoader(EpochLoader):
    """Mini-batches of a TensorDataset by slicing its tensors, which move to the device once
    for the whole run: one indexing operation per batch instead of a DataLoader's batch_size
    __getitem__ calls and a collate, several times faster on data that fits in memory."""

    def __init__(
        self, dataset: TensorDataset, batch_size: int, procs: Processes, shuffle: bool, seed: int
    ) -> None:
        x, y = dataset.tensors
        if not shuffle and (index := evaluation_share(len(y), procs)) is not None:
            x, y = x[index], y[index]
        self.x, self.y = x.to(procs.device), y.to(procs.device)
        super().__init__(len(y), batch_size, procs, shuffle, seed)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        size = self.batch_size
        if not self.shuffle:
            yield from zip(self.x.split(size), self.y.split(size), strict=True)
            return
        order = torch.tensor(self.order(), dtype=torch.int64, device=self.y.device)
        for index in order.split(size):  # index_select: the fastest way to gather rows
            yield self.x.index_select(0, index), self.y.index_select(0, index)


def evaluation_share(n: int, procs: Processes) -> np.ndarray | None:
    """The samples this process evaluates under torchrun: every world-th one, none repeated
    (None with one process: all of them)."""
    if procs.world == 1:
        return None
    if n < procs.world:
        raise UserError(
            f"the validation split has {n} sample(s), fewer than the {procs.world} processes: "
            "use a larger --val-size"
        )
    return np.arange(procs.rank, n, procs.world)
