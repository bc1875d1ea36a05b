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


def format_metrics(metrics: dict[str, Any]) -> str:
    """Scalar metrics as an aligned two-column table."""
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    width = max(map(len, scalars))
    return "\n".join(
        f"{k.ljust(width)}  {'n/a' if v is None else f'{v:.4f}' if isinstance(v, float) else v}"
        for k, v in scalars.items()
    )
