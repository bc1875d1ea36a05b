"""Step 2 of the pipeline, for a table: columns -> features, and targets -> tensors.

Everything here is fit on the training split only and kept as plain values (`state_dict()`),
stored in every checkpoint, so eval.py and predict.py transform data exactly as training did.
"""

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset

import task
from config import Config
from data_files import about
from data_loader import Samples
from utils import DataError, category_text, warn

COLUMN_TYPES = ("numeric", "categorical", "date", "drop")
ID_NAME = re.compile(r"(^|[^a-z])(id|idx|key|uuid|guid)$|^(id|idx|key|uuid|guid)[^a-z]", re.I)
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


class Preprocessing:
    """Table columns -> one float32 matrix, and the targets (task.Targets). Each column's type
    comes from the training split (or from --column-types NAME:TYPE):

        numeric      missing values and +-inf become the training median; then scaled:
                     robust (median, interquartile range, smooth clipping) or standard
        categorical  missing values become the most frequent one; then one-hot over the
                     max_categories most frequent training categories (others: all zeros)
        date         year, month, day, weekday (and hour) features, each treated as numeric
        drop         empty, constant and ID-like columns (a warning says which and why)
    """

    def __init__(self, columns: dict[str, dict[str, Any]], targets: task.Targets) -> None:
        self.columns = columns  # name -> {"type": ..., and the training statistics}
        self.size = sum(width(spec) for spec in columns.values())
        self.targets = targets

    @classmethod
    def fit(cls, train: Samples, cfg: Config) -> "Preprocessing":
        names = [c for c in train.table.columns if c not in cfg.target]
        columns = fit_columns(train.table, names, cfg, train.path)
        with about(train.path):
            return cls(columns, task.Targets.fit(train.table[cfg.target], cfg))

    def dataset(self, samples: Samples) -> TensorDataset:
        """A split as tensors: x (N, F) float32 features, y as task.py documents."""
        x = self.transform(samples.table, samples.path)
        with about(samples.path):
            return TensorDataset(x, self.targets.encode(samples.table))

    def transform(self, frame: pd.DataFrame, path: Path) -> torch.Tensor:
        """(N, size) float32 features of a table with (at least) the training columns."""
        if missing := [c for c in self.columns if c not in frame.columns]:
            raise DataError(f"{path}: missing feature column(s) {missing}")
        out, start = np.empty((len(frame), self.size), dtype=np.float32), 0  # column by column
        for name, spec in self.columns.items():
            raw = frame[name]
            if spec["type"] == "numeric":
                x = checked_numbers(raw, name, path, spec)
                out[:, start] = standardize(x, spec["stats"], spec.get("clip", False))
            elif spec["type"] == "date":
                parts, clip = date_parts(raw, list(spec["parts"])), spec.get("clip", False)
                for i, (part, stats) in enumerate(spec["parts"].items()):
                    out[:, start + i] = standardize(parts[part].to_numpy(), stats, clip)
            else:
                text = raw.map(category_text, na_action="ignore").fillna(spec["fill"])
                codes = pd.Index(spec["categories"]).get_indexer(text)  # -1: unseen
                block = out[:, start : start + width(spec)]
                block[:] = 0  # unseen categories stay all zeros
                known = np.flatnonzero(codes >= 0)
                block[known, codes[known]] = 1
            start += width(spec)
        return torch.from_numpy(out)

    def input_args(self) -> dict[str, Any]:
        """What the model needs to know about its input: the number of features, and for each
        numeric one (by position) the edges of its training-quantile bins."""
        bins, start = [], 0
        for spec in self.columns.values():  # "bins": one list of edges per feature it makes
            found = enumerate(spec.get("bins", []))
            bins += [[start + i, edges] for i, edges in found if len(edges) > 1]
            start += width(spec)
        return {"in_features": self.size, "numeric_bins": bins}

    def state_dict(self) -> dict[str, Any]:
        return {"features": {"columns": self.columns}, "targets": self.targets.state_dict()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Preprocessing":
        targets = task.Targets.from_state_dict(state["targets"])
        return cls(state["features"]["columns"], targets)


def fit_columns(
    frame: pd.DataFrame, names: list[str], cfg: Config, path: Path
) -> dict[str, dict[str, Any]]:
    """Type each column in `names` and fit its statistics on the (training) rows of `frame`."""
    overrides = column_overrides(cfg.column_types, names, path)
    robust = cfg.numeric_scaling == "robust"
    columns, dropped, filled = {}, [], []
    for name in names:
        values = frame[name]
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
            columns[name], missing = numeric_column(values, name, path, name in overrides, robust)
        elif kind == "date":
            parts = date_parts(values, ["year", "month", "day", "weekday", "hour"])
            if not parts["hour"].any():
                parts = parts.drop(columns="hour")
            stats = {part: numeric_stats(parts[part].to_numpy(), robust) for part in parts}
            bins = [quantile_bins(parts[p].to_numpy(), stats[p], robust) for p in parts]
            columns[name] = {"type": "date", "parts": stats, "bins": bins, "clip": robust}
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
            top = sorted(counts.index[: cfg.max_categories])
            columns[name] = {"type": "categorical", "fill": counts.index[0], "categories": top}
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
    return columns


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
    if pd.to_numeric(text, errors="coerce").notna().mean() >= 0.9 or thousands(present):
        return "numeric", ""  # with a few typos, which transform() reports by line
    sample = text.iloc[:1000]
    if sample.str.match(DATE_LIKE).mean() >= 0.9 and parse_dates(text).notna().mean() >= 0.9:
        return "date", ""
    if every_row:
        return "drop", "looks like an ID or free text (a different value on every row)"
    return "categorical", ""


def numeric_column(
    values: pd.Series, name: str, path: Path, given: bool, robust: bool
) -> tuple[dict[str, Any], int]:
    """A numeric column's spec (its statistics; its thousands separator if it writes one; if
    --column-types made it numeric), and how many values are missing."""
    spec: dict[str, Any] = {"type": "numeric"} | ({"given": True} if given else {})
    if separator := thousands(values):
        spec["thousands"] = separator
        example = values.dropna().iloc[0]
        print(f"note: {path}: column '{name}' has thousands separators ({example}): numbers")
    x = to_numbers(values, separator)
    spec["stats"] = numeric_stats(x, robust)
    spec |= {"bins": [quantile_bins(x, spec["stats"], robust)], "clip": robust}
    return spec, int((~np.isfinite(x)).sum())


def thousands(values: pd.Series) -> str:
    """The thousands separator of a text column of numbers: "," for 1,234.5 or 1,234,567, "."
    for 1.234,5; "" for none, or when unsure (1,234 alone could be 1.234 with a decimal comma)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return ""
    text = values.dropna().map(str).str.strip()
    for separator, decimal in ((",", "."), (".", ",")):
        s, d = re.escape(separator), re.escape(decimal)
        grouped = text.str.fullmatch(r"[+-]?\d{1,3}(" + s + r"\d{3})+(" + d + r"\d*)?")
        numbers = grouped | text.str.fullmatch(r"[+-]?\d+(" + d + r"\d*)?")
        sure = text.str.contains(decimal, regex=False) | (text.str.count(s) >= 2)
        if grouped.any() and numbers.mean() >= 0.9 and (sure & numbers).any():
            return separator
    return ""


def to_numbers(values: pd.Series, separator: str = "") -> np.ndarray:
    """float64 values (without the thousands `separator`); what is not a number becomes NaN."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.map(str, na_action="ignore")
    if separator:  # 1,234.5 -> 1234.5; 1.234,5 -> 1234.5
        text = text.str.replace(separator, "", regex=False)
        text = text.str.replace(",", ".", regex=False) if separator == "." else text
    numbers = pd.to_numeric(text, errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def checked_numbers(raw: pd.Series, name: str, path: Path, spec: dict[str, Any]) -> np.ndarray:
    """to_numbers(), but text that is not a number is an error naming its line and values."""
    x = to_numbers(raw, spec.get("thousands", ""))
    bad = np.isnan(x) & raw.notna().to_numpy()
    if bad.any():
        line = raw.index[bad.argmax()]
        found = ", ".join(map(repr, raw[bad].map(str).unique()[:3]))
        other = "" if spec.get("given") else f", or train with --column-types {name}:categorical"
        raise DataError(
            f"{path}: column '{name}' {raw.index.name} {line}: {raw[line]!r} is not a number "
            f"({int(bad.sum())} such value(s): {found}); fix the data{other}"
        )
    return x


def numeric_stats(x: np.ndarray, robust: bool) -> list[float]:
    """[fill (the median), center, scale]: the median and IQR if robust, else mean and std."""
    finite = x[np.isfinite(x)]
    if robust and len(finite):  # half the range when most values are equal (a rare 0/1 flag)
        q1, median, q3 = np.quantile(finite, [0.25, 0.5, 0.75]).tolist()
        spread = q3 - q1 or float(finite.max() - finite.min()) / 2
        return [median, median, spread or 1.0]
    median = float(np.median(finite)) if len(finite) else 0.0
    filled = np.where(np.isfinite(x), x, median)
    std = float(filled.std())
    return [median, float(filled.mean()), std if std > 0 else 1.0]


def standardize(x: np.ndarray, stats: list[float], clip: bool = False) -> np.ndarray:
    fill, center, scale = stats
    z = (np.where(np.isfinite(x), x, fill) - center) / scale
    # Smooth clipping (RealMLP): z near 0, within +-3, order kept: outliers cannot swamp it.
    return z / np.sqrt(1 + (z / 3) ** 2) if clip else z


def quantile_bins(x: np.ndarray, stats: list[float], clip: bool, bins: int = 48) -> list[float]:
    """Edges of up to `bins` equal-count bins of the scaled values (from 100,000 at most)."""
    z = standardize(x[:: max(1, len(x) // 100_000)], stats, clip)
    return np.unique(np.quantile(z, np.linspace(0, 1, bins + 1)).round(6)).tolist()


def parse_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.map(str, na_action="ignore"), errors="coerce", format="mixed")


def date_parts(values: pd.Series, parts: list[str]) -> pd.DataFrame:
    """Numeric parts of dates (NaN where a value is missing or not a date)."""
    dates = parse_dates(values).dt
    table = {"year": dates.year, "month": dates.month, "day": dates.day}
    table |= {"weekday": dates.day_of_week, "hour": dates.hour + dates.minute / 60}
    return pd.DataFrame({part: table[part].astype(np.float64) for part in parts})
