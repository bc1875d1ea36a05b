"""Small helpers shared by the scripts: errors, seeding, device choice, early stopping."""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


class UserError(Exception):
    """A problem the user can fix (bad data, missing run, ...): printed as one line."""

    def __str__(self) -> str:
        return " ".join(super().__str__().split())  # one line, whatever a library's text held


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


def category_text(value: Any) -> str:
    """A class label or category as text: 1, 1.0, "1" and " 1 " are the same."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; anything else is used as given."""
    if name == "auto":
        mps = torch.backends.mps.is_available()
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise UserError(f"--device {name!r}: {e}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name}: CUDA is not available on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise UserError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"--device {name}: MPS is not available on this machine")
    return device


@dataclass
class EarlyStopping:
    """Counts epochs without a new lowest validation loss."""

    patience: int  # 0 = never stop early
    best: float = float("inf")
    bad_epochs: int = 0

    def step(self, value: float) -> bool:
        """Record one epoch's value; return True if it is the best so far."""
        if value < self.best:
            self.best, self.bad_epochs = value, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]


@torch.no_grad()
def collect_logits(model: torch.nn.Module, batches: Iterable[torch.Tensor]) -> torch.Tensor:
    """Run the model over input batches in evaluation mode (no dropout, frozen batch norm)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(x.to(device, non_blocking=True)).float() for x in batches])


class ClassLabels:
    """Class names <-> indices 0..K-1. Names are sorted, numerically when they are numbers,
    and stored in every checkpoint so predictions map back to the same names."""

    def __init__(self, column: str, classes: list[str]) -> None:
        self.column = column
        self.classes = classes
        self.index = {name: i for i, name in enumerate(classes)}

    @classmethod
    def fit(cls, column: str, values: list[Any], strict: bool = False) -> "ClassLabels":
        unique = set(values)
        fractions = [v for v in unique if isinstance(v, float) and not v.is_integer()]
        if fractions:
            raise UserError(
                f"target '{column}' has non-integer values such as {fractions[0]}: a classifier "
                "needs class labels (a numeric target needs a regression project)"
            )
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in unique):
            return cls(column, [category_text(v) for v in sorted(unique)])
        classes = sorted({category_text(v) for v in unique})
        groups: dict[str, list[str]] = {}
        for name in classes:
            groups.setdefault(name.casefold(), []).append(name)
        if variants := [", ".join(map(repr, g)) for g in groups.values() if len(g) > 1]:
            warn(
                f"target '{column}' has labels that differ only by case ({'; '.join(variants)}): "
                "they are different classes; if each group is one class, write it one way in "
                "the data (e.g. all lower-case)",
                strict,
            )
        return cls(column, classes)

    def encode(self, values: list[Any]) -> torch.Tensor:
        texts = [category_text(v) for v in values]
        unknown = sorted(set(texts) - set(self.index))
        if unknown:
            raise UserError(
                f"target '{self.column}': unknown class(es) {unknown[:5]}; known: {self.classes}"
            )
        return torch.tensor([self.index[t] for t in texts], dtype=torch.int64)

    def state_dict(self) -> dict[str, Any]:
        return {"column": self.column, "classes": self.classes}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = samples of true class i predicted as class j."""
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def safe_div(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, with 0 where the denominator is 0 (as scikit-learn does)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def confusion_text(counts: list[list[int]], classes: list[str]) -> str:
    """The confusion matrix as a text table: rows = true class, columns = predicted."""
    width = max(len(str(v)) for v in [*classes, *(c for row in counts for c in row), "true"])
    lines = [" " * width + " | " + " ".join(c.rjust(width) for c in classes) + "  (predicted)"]
    for name, row in zip(classes, counts, strict=True):
        lines.append(name.rjust(width) + " | " + " ".join(str(c).rjust(width) for c in row))
    return "\n".join(lines)


def format_metrics(metrics: dict[str, Any]) -> str:
    """Scalar metrics as an aligned two-column table."""
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    width = max(map(len, scalars))
    return "\n".join(
        f"{k.ljust(width)}  {'n/a' if v is None else f'{v:.4f}' if isinstance(v, float) else v}"
        for k, v in scalars.items()
    )
