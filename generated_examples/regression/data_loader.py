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
from torch.utils.data import DistributedSampler

import task
from config import Config
from utils import UserError, category_text


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
    x: torch.Tensor  # (N, F) float32 features
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
# Tabular features

COLUMN_TYPES = ("numeric", "categorical", "date", "drop")
ID_NAME = re.compile(r"(^|[^a-z])(id|idx|key|uuid|guid)$|^(id|idx|key|uuid|guid)[^a-z]", re.I)
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


class Features:
    """Table columns -> one float32 matrix. Each column's type comes from the training split
    (or from --column-types NAME:TYPE):

        numeric      missing values and +-inf become the training median; then standardized
        categorical  missing values become the most frequent one; then one-hot over the
                     max_categories most frequent training categories (others: all zeros)
        date         year, month, day, weekday (and hour) features, each treated as numeric
        drop         empty, constant and ID-like columns (a warning says which and why)
    """

    def __init__(self, columns: dict[str, dict[str, Any]]) -> None:
        self.columns = columns  # name -> {"type": ..., and the training statistics}
        self.size = sum(width(spec) for spec in columns.values())

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, names: list[str], rows: np.ndarray, cfg: Config, path: Path
    ) -> "Features":
        """Type each column in `names` and fit its statistics on the rows `rows` of `frame`."""
        overrides = column_overrides(cfg.column_types, names, path)
        columns, dropped, filled = {}, [], []
        for name in names:
            values = frame[name].iloc[rows]
            kind, reason = overrides.get(name, "auto"), ""
            if kind == "auto":
                kind, reason = infer_type(name, values)
            if kind == "drop":
                if reason:
                    dropped.append(f"{name}: {reason}")
                continue
            if values.isna().all():
                raise DataError(f"{path}: column '{name}' has no values in the training split")
            if kind == "numeric":
                x = to_numbers(values)
                columns[name] = {"type": "numeric", "stats": numeric_stats(x)}
                missing = int((~np.isfinite(x)).sum())
            elif kind == "date":
                parts = date_parts(values, ["year", "month", "day", "weekday", "hour"])
                if not parts["hour"].any():
                    parts = parts.drop(columns="hour")
                stats = {part: numeric_stats(parts[part].to_numpy()) for part in parts}
                columns[name] = {"type": "date", "parts": stats}
                missing = int(parts["year"].isna().sum())
                print(f"note: {path}: column '{name}' holds dates: features {list(stats)}")
            else:
                counts = values.dropna().map(category_text).value_counts()
                if len(counts) > cfg.max_categories:
                    warn(
                        f"{path}: column '{name}' has {len(counts)} categories; one-hot encoding "
                        f"the {cfg.max_categories} most frequent, the others as all zeros "
                        "(--max-categories)",
                        cfg.strict_data,
                    )
                categories = sorted(counts.index[: cfg.max_categories])
                columns[name] = {
                    "type": "categorical",
                    "fill": counts.index[0],
                    "categories": categories,
                }
                missing = int(values.isna().sum())
            if missing:
                filled.append(f"{name} ({missing})")
        if dropped:
            message = f"{path}: dropped {len(dropped)} column(s); keep one with --column-types"
            warn(f"{message} NAME:numeric (or categorical)", cfg.strict_data, dropped)
        if not columns:
            raise DataError(f"{path}: no feature columns left (only targets and dropped columns)")
        if filled:
            print(
                f"note: {path}: filled missing or infinite training values in {len(filled)} "
                f"column(s): {', '.join(filled[:8])}" + (", ..." if len(filled) > 8 else "")
            )
        return cls(columns)

    def transform(self, frame: pd.DataFrame, path: Path) -> torch.Tensor:
        """(N, size) float32 features of a table with (at least) the training columns."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing feature column(s) {missing}")
        out = np.empty((len(frame), self.size), dtype=np.float32)  # filled column by column
        start = 0
        for name, spec in self.columns.items():
            raw = frame[name]
            if spec["type"] == "numeric":
                out[:, start] = standardize(checked_numbers(raw, name, path), spec["stats"])
            elif spec["type"] == "date":
                parts = date_parts(raw, list(spec["parts"]))
                for i, (part, stats) in enumerate(spec["parts"].items()):
                    out[:, start + i] = standardize(parts[part].to_numpy(), stats)
            else:
                text = raw.map(category_text, na_action="ignore").fillna(spec["fill"])
                codes = pd.Categorical(text, categories=spec["categories"]).codes
                block = out[:, start : start + width(spec)]
                block[:] = 0  # unseen categories stay all zeros
                known = np.flatnonzero(codes >= 0)
                block[known, codes[known]] = 1
            start += width(spec)
        return torch.from_numpy(out)

    def state_dict(self) -> dict[str, Any]:
        return {"columns": self.columns}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Features":
        return cls(state["columns"])


def width(spec: dict[str, Any]) -> int:
    """How many feature values a column becomes."""
    if spec["type"] == "categorical":
        return len(spec["categories"])
    return len(spec["parts"]) if spec["type"] == "date" else 1


def column_overrides(entries: list[str], names: list[str], path: Path) -> dict[str, str]:
    """--column-types NAME:TYPE entries as {name: type}."""
    overrides = {}
    for entry in entries:
        name, _, kind = entry.rpartition(":")
        if kind not in COLUMN_TYPES or not name:
            raise DataError(
                f"--column-types {entry!r}: expected NAME:TYPE, TYPE one of {COLUMN_TYPES}"
            )
        if name not in names:
            raise DataError(f"--column-types {entry!r}: {path} has no feature column {name!r}")
        overrides[name] = kind
    return overrides


def infer_type(name: str, values: pd.Series) -> tuple[str, str]:
    """The type of a column from its training values; for "drop", also the reason."""
    present = values.dropna()
    if present.empty:
        return "drop", "no values"
    unique = present.nunique()
    if unique == 1:
        return "drop", f"the same value ({category_text(present.iloc[0])}) on every row"
    every_row = unique == len(values) and len(values) >= 20
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        x = present.to_numpy(dtype=np.float64)
        if not np.isfinite(x).any():
            return "drop", "no finite values"
        dense = x.max() - x.min() < 2 * unique  # like row numbers, even after the split
        if every_row and (x == np.round(x)).all() and (dense or ID_NAME.search(name)):
            return "drop", "looks like an ID (a different whole number on every row)"
        return "numeric", ""
    text = present.map(str).str.strip()
    if pd.to_numeric(text, errors="coerce").notna().mean() >= 0.9:
        return "numeric", ""  # with a few typos, which transform() reports by line
    sample = text.iloc[:1000]
    if sample.str.match(DATE_LIKE).mean() >= 0.9 and parse_dates(text).notna().mean() >= 0.9:
        return "date", ""
    if every_row:
        return "drop", "looks like an ID or free text (a different value on every row)"
    return "categorical", ""


def to_numbers(values: pd.Series) -> np.ndarray:
    """float64 values; anything that is not a number becomes NaN."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(values.map(str, na_action="ignore"), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def checked_numbers(raw: pd.Series, name: str, path: Path) -> np.ndarray:
    """to_numbers(), but text that is not a number is an error naming its line."""
    x = to_numbers(raw)
    bad = np.isnan(x) & raw.notna().to_numpy()
    if bad.any():
        line = raw.index[bad.argmax()]
        raise DataError(
            f"{path}: column '{name}' {raw.index.name} {line}: {raw[line]!r} is not a number "
            f"({int(bad.sum())} such value(s)); fix the data, or pass --column-types "
            f"{name}:categorical"
        )
    return x


def numeric_stats(x: np.ndarray) -> list[float]:
    """[median, mean, std] of the finite values; missing values count as the median."""
    finite = x[np.isfinite(x)]
    median = float(np.median(finite)) if len(finite) else 0.0
    filled = np.where(np.isfinite(x), x, median)
    std = float(filled.std())
    return [median, float(filled.mean()), std if std > 0 else 1.0]


def standardize(x: np.ndarray, stats: list[float]) -> np.ndarray:
    median, mean, std = stats
    return (np.where(np.isfinite(x), x, median) - mean) / std


def parse_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.map(str, na_action="ignore"), errors="coerce", format="mixed")


def date_parts(values: pd.Series, parts: list[str]) -> pd.DataFrame:
    """Numeric parts of dates (NaN where a value is missing or not a date)."""
    dates = parse_dates(values).dt
    table = {"year": dates.year, "month": dates.month, "day": dates.day}
    table |= {"weekday": dates.dayofweek, "hour": dates.hour + dates.minute / 60}
    return pd.DataFrame({part: table[part].astype(np.float64) for part in parts})


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
    """Read cfg.data (and cfg.val_data / cfg.test_data, when given) and return preprocessed
    train/val/test splits. With `state` (from a checkpoint) the saved preprocessing is reused
    instead of being fit again."""
    if not cfg.target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    path, files = Path(cfg.data), extra_files(cfg)
    frame = read_labelled(path, cfg.target)
    if state is None:
        with about(path):  # fail early, before splitting, if the target does not fit the task
            task.Targets.fit(frame[cfg.target], cfg)
    rows = split_rows(frame, cfg.target, cfg, path, files)
    if state is None:
        names = [c for c in frame.columns if c not in cfg.target]
        features = Features.fit(frame, names, rows["train"], cfg, path)
        with about(path):
            targets = task.Targets.fit(frame[cfg.target].iloc[rows["train"]], cfg)
    else:
        features = Features.from_state_dict(state["features"])
        targets = task.Targets.from_state_dict(state["targets"])
    # Transform the whole table once, then let go of it before splitting the tensors.
    x = features.transform(frame, path)
    with about(path):
        y = targets.encode(frame[cfg.target])
    del frame
    whole = Split(x, y)
    splits = {part: whole.subset(index) for part, index in rows.items() if part not in files}
    for part, file in files.items():
        extra = read_labelled(file, cfg.target)
        with about(file):
            splits[part] = Split(features.transform(extra, file), targets.encode(extra[cfg.target]))
    return Splits(splits["train"], splits["val"], splits["test"], features, targets)


def load_inputs(path: Path, state: dict[str, Any]) -> tuple[pd.DataFrame, torch.Tensor]:
    """New rows to predict on (target columns, if present, are ignored): returns their line
    numbers and their features, preprocessed with the training statistics in `state`."""
    frame = read_table(path)
    x = Features.from_state_dict(state["features"]).transform(frame, path)
    return pd.DataFrame({frame.index.name: frame.index}), x
