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

import task
from config import Config
from utils import UserError


class DataError(UserError):
    """A problem with the data, reported as one line before any training step."""


@dataclass
class Split:
    x: torch.Tensor  # (N, F) float32 features
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


class Features:
    """Table columns -> one float32 matrix.

    Numeric columns: missing values and +-inf become the training median, then the column is
    standardized with the training mean and std. Other columns: missing values become the most
    frequent training value, then one-hot over the training categories (unseen -> all zeros).
    """

    max_categories = 50  # beyond this, the rarest categories encode as all zeros

    def __init__(self, numeric: dict[str, list[float]], categorical: dict[str, list[str]]) -> None:
        self.numeric = numeric  # column -> [median, mean, std]
        self.categorical = categorical  # column -> [fill value, category, category, ...]
        self.size = len(numeric) + sum(len(c) - 1 for c in categorical.values())

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> "Features":
        numeric, categorical = {}, {}
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
                x = values.astype(float).replace([np.inf, -np.inf], np.nan)
                if x.isna().all():
                    raise DataError(f"feature '{column}' has no values in the training split")
                filled = x.fillna(x.median())
                std = float(filled.std(ddof=0))
                numeric[column] = [float(x.median()), float(filled.mean()), std if std > 0 else 1.0]
            else:
                counts = values.dropna().map(str).value_counts()
                if counts.empty:
                    raise DataError(f"feature '{column}' has no values in the training split")
                if len(counts) > cls.max_categories:
                    print(
                        f"warning: feature '{column}' has {len(counts)} categories; one-hot "
                        f"encoding the {cls.max_categories} most frequent, the rest as all zeros"
                    )
                kept = sorted(counts.index[: cls.max_categories])
                categorical[column] = [str(counts.index[0]), *kept]
        if not numeric and not categorical:
            raise DataError("no feature columns: the data holds only target columns")
        return cls(numeric, categorical)

    def transform(self, frame: pd.DataFrame) -> torch.Tensor:
        missing = [c for c in [*self.numeric, *self.categorical] if c not in frame.columns]
        if missing:
            raise DataError(f"missing feature column(s) {missing}")
        parts = []
        for column, (median, mean, std) in self.numeric.items():
            raw = frame[column]
            x = pd.to_numeric(raw, errors="coerce")
            bad = x.isna() & raw.notna()
            if bad.any():
                line = bad.idxmax()
                raise DataError(f"feature '{column}' line {line}: {raw[line]!r} is not a number")
            x = x.astype(float).replace([np.inf, -np.inf], np.nan).fillna(median)
            parts.append(((x.to_numpy() - mean) / std)[:, None])
        for column, (fill, *categories) in self.categorical.items():
            raw = frame[column]
            text = raw.astype(object).where(raw.notna(), fill).map(str)
            codes = pd.Categorical(text, categories=categories).codes
            one_hot = np.zeros((len(frame), len(categories)))
            known = codes >= 0
            one_hot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(one_hot)
        return torch.from_numpy(np.concatenate(parts, axis=1).astype(np.float32))

    def state_dict(self) -> dict[str, Any]:
        return {"numeric": self.numeric, "categorical": self.categorical}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Features":
        return cls(state["numeric"], state["categorical"])


@dataclass
class Splits:
    train: Split
    val: Split
    test: Split
    features: Features
    targets: task.Targets

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input."""
        return {"in_features": self.features.size}

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(), "targets": self.targets.state_dict()}


def load_splits(cfg: Config, state: dict[str, Any] | None = None) -> Splits:
    """Read cfg.data and return the preprocessed train/val/test splits. With `state` (from a
    checkpoint) the saved preprocessing is reused instead of being fit again."""
    path = Path(cfg.data)
    frame = read_table(path)
    if not cfg.target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    check_columns(frame, cfg.target, path)
    frame = drop_missing_targets(frame, cfg.target, path)
    groups = frame[cfg.target[0]].map(str).to_numpy() if task.STRATIFY else None
    train, val, test = split_indices(len(frame), groups, cfg)
    inputs = frame.drop(columns=cfg.target)
    if state is None:
        features = Features.fit(inputs.iloc[train])
        targets = task.Targets.fit(frame[cfg.target].iloc[train], cfg)
    else:
        features = Features.from_state_dict(state["features"])
        targets = task.Targets.from_state_dict(state["targets"])
    x, y = features.transform(inputs), targets.encode(frame[cfg.target])
    split = [Split(x[torch.from_numpy(i)], y[torch.from_numpy(i)]) for i in (train, val, test)]
    return Splits(*split, features, targets)


def load_inputs(path: Path, state: dict[str, Any]) -> tuple[pd.DataFrame, torch.Tensor]:
    """New rows to predict on (target columns, if present, are ignored): returns their line
    numbers and their features, preprocessed with the training statistics in `state`."""
    frame = read_table(path)
    x = Features.from_state_dict(state["features"]).transform(frame)
    return pd.DataFrame({"line": frame.index}), x


def drop_missing_targets(frame: pd.DataFrame, target: list[str], path: Path) -> pd.DataFrame:
    kept = frame.dropna(subset=target)
    if len(kept) < len(frame):
        print(f"note: {path}: skipped {len(frame) - len(kept)} rows with a missing target")
    if kept.empty:
        raise DataError(f"{path}: every row has a missing target {target}")
    return kept
