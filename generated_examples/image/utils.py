"""Seeding, device choice, run folders, checkpoints and early stopping."""

import hashlib
import os
import pickle
import random
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from checkpoint_versions import TEMPLATE_VERSION, OldCheckpointError, has_no_hash, upgrade


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


# What a run writes before its first checkpoint: a run that stopped before then can be started
# again under the same name.
BEFORE_FIRST_SAVE = {"config.json", "metrics.csv", "tensorboard", "wandb", "mlflow_run_id.txt"}


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """Create the folder of a new run; never reuse (and so overwrite) one that holds a
    checkpoint or anything else of value."""
    if name:
        run_dir = runs_dir / name
        found = {p.name for p in run_dir.iterdir()} if run_dir.is_dir() else set()
        unfinished = {n for n in found if n.startswith(".") and n.endswith(".tmp")}
        if found - unfinished - BEFORE_FIRST_SAVE:
            raise UserError(
                f"{run_dir} already exists: pass --resume to continue it, or another --run-name"
            )
        if found:
            print(f"note: {run_dir} stopped before its first checkpoint: starting it again")
            for file in [run_dir / "metrics.csv", *(run_dir / n for n in unfinished)]:
                file.unlink(missing_ok=True)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir, n = runs_dir / stamp, 1
        while run_dir.exists():
            n += 1
            run_dir = runs_dir / f"{stamp}-{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def latest_run(runs_dir: Path) -> Path:
    """The run whose checkpoint was written most recently."""
    found = [*Path(runs_dir).glob("*/last.pt"), *Path(runs_dir).glob(f"*/{PREVIOUS}")]
    if not found:
        raise UserError(f"no runs in {runs_dir}/: train one first with `python train.py`")
    return max(found, key=lambda p: p.stat().st_mtime).parent


# ---------------------------------------------------------------------------------------------
# Checkpoints hold only tensors, numbers, strings, lists and dicts, so they load with
# torch.load(weights_only=True): loading never runs code from the file. Each one stores a
# SHA-256 of its own contents, so a damaged file is an error instead of silently wrong weights,
# and the template version that wrote it (checkpoint_versions.py reads those of older ones).

PREVIOUS = "previous.pt"  # last.pt's predecessor, the fallback when last.pt is damaged


def save_checkpoint(state: dict[str, Any], path: Path, keep_previous: bool = False) -> None:
    """Write to a temporary file, fsync it, then rename it over `path`: a crash, a kill or a
    full disk in the middle of a save leaves the previous checkpoint intact. With
    `keep_previous`, the file being replaced becomes previous.pt."""
    path = Path(path)
    state = {**state, "template_version": TEMPLATE_VERSION}
    state["sha256"] = state_digest(state)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous and path.exists():
            os.replace(path, path.with_name(PREVIOUS))
        os.replace(tmp, path)
        sync_folder(path.parent)
    except OSError as e:
        reason = e.strerror or str(e)
        raise UserError(f"cannot save {path}: {reason}; the previous one is intact") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load and verify a checkpoint onto the CPU; the caller moves what it needs to its device."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty (a save was cut short?)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refused it: it would run code
        found = [line.strip() for line in str(e).splitlines() if "GLOBAL" in line]
        detail = f" ({found[0]})" if found else ""
        raise UserError(
            f"{path}: refused to load: it holds objects other than tensors and plain values, "
            f"which could run code{detail}"
        ) from None
    except Exception as e:  # truncated, corrupt or not a checkpoint at all
        raise UserError(f"{path}: damaged or not a checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or not ("sha256" in state or has_no_hash(state)):
        raise UserError(f"{path}: not a checkpoint written by this project (no integrity hash)")
    if "sha256" in state and state.pop("sha256") != state_digest(state):
        raise UserError(f"{path}: damaged, its contents do not match its integrity hash")
    try:
        state, notes = upgrade(state)
    except OldCheckpointError as e:
        raise UserError(f"{path}: {e}") from None
    for note in notes:
        print(f"note: {path}: {note}")
    return state


def load_last_checkpoint(run_dir: Path) -> dict[str, Any]:
    """last.pt, or previous.pt (said on the console) when last.pt is missing or damaged."""
    try:
        return load_checkpoint(run_dir / "last.pt")
    except UserError as error:
        if not (run_dir / PREVIOUS).is_file():
            raise
        state = load_checkpoint(run_dir / PREVIOUS)
        print(f"warning: {error}; using {run_dir / PREVIOUS} (epoch {state['epoch']}) instead")
        return state


def remove_stale_files(run_dir: Path) -> None:
    """Delete the temporary files of saves that a crash or a kill cut short."""
    stale = sorted(run_dir.glob(".*.tmp"))
    for file in stale:
        file.unlink(missing_ok=True)
    if stale:
        print(f"removed {len(stale)} unfinished temporary file(s) from {run_dir}")


def state_digest(state: Any) -> str:
    """SHA-256 of a checkpoint's contents: every tensor's dtype, shape and bytes, every other
    value's type and repr, in order."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}\n".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
        elif isinstance(value, dict):
            digest.update(f"dict {len(value)}\n".encode())
            for key, item in value.items():
                feed(key)
                feed(item)
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__} {len(value)}\n".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"{type(value).__name__} {value!r}\n".encode())

    feed(state)
    return digest.hexdigest()


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


# ---------------------------------------------------------------------------------------------
# Classification helpers


class ClassLabels:
    """Class names <-> indices 0..K-1. Names are sorted, numerically when they are numbers,
    and stored in every checkpoint so predictions map back to the same names."""

    def __init__(self, column: str, classes: list[str]) -> None:
        self.column = column
        self.classes = classes
        self.index = {name: i for i, name in enumerate(classes)}

    @classmethod
    def fit(cls, column: str, values: list[Any]) -> "ClassLabels":
        unique = set(values)
        fractions = [v for v in unique if isinstance(v, float) and not v.is_integer()]
        if fractions:
            raise UserError(
                f"target '{column}' has non-integer values such as {fractions[0]}: a classifier "
                "needs class labels (a numeric target needs a regression project)"
            )
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in unique):
            return cls(column, [category_text(v) for v in sorted(unique)])
        return cls(column, sorted({category_text(v) for v in unique}))

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


def format_confusion(counts: list[list[int]], classes: list[str]) -> str:
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
