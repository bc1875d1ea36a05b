"""Seeding, device choice, run folders, checkpoints and early stopping."""

import os
import random
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch


class UserError(Exception):
    """A problem the user can fix (bad data, missing run, ...): printed as one line."""


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
    if name != "auto":
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
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# ---------------------------------------------------------------------------------------------
# Run folders: runs/<run-name>/{config.json, metrics.csv, last.pt, best.pt, test_metrics.json}


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """Create the folder of a new run; never reuse (and so overwrite) an existing one."""
    if name:
        run_dir = runs_dir / name
        if run_dir.exists() and any(run_dir.iterdir()):
            raise UserError(
                f"{run_dir} already exists: pass --resume to continue it, or another --run-name"
            )
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir, n = runs_dir / stamp, 1
        while run_dir.exists():
            n += 1
            run_dir = runs_dir / f"{stamp}-{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def latest_run(runs_dir: Path) -> Path:
    """The run whose last.pt was written most recently."""
    checkpoints = sorted(Path(runs_dir).glob("*/last.pt"), key=lambda p: p.stat().st_mtime)
    if not checkpoints:
        raise UserError(f"no runs in {runs_dir}/: train one first with `python train.py`")
    return checkpoints[-1].parent


# ---------------------------------------------------------------------------------------------
# Checkpoints hold only tensors, numbers, strings, lists and dicts, so they load with
# torch.load(weights_only=True): loading never runs code from the file.


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write to a temporary file, then rename it over `path`: a crash or a full disk in the
    middle of a save leaves the previous checkpoint intact."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; the caller moves what it needs to its device."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, corrupt or not a checkpoint at all
        raise UserError(f"{path}: cannot load checkpoint ({type(e).__name__}: {e})") from None


class EarlyStopping:
    """Counts epochs without a new lowest validation loss."""

    def __init__(self, patience: int) -> None:
        self.patience = patience  # 0 = never stop early
        self.best = float("inf")
        self.bad_epochs = 0

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
