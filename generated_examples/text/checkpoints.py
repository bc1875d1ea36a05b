"""Run folders and their checkpoint files: runs/<run-name>/{config.json, metrics.csv, last.pt,
previous.pt, best.pt, test_metrics.json}.

Checkpoints hold only tensors, numbers, strings, lists and dicts, so they load with
torch.load(weights_only=True): loading never runs code from the file. Each one stores a SHA-256
of its own contents, so a damaged file is an error instead of silently wrong weights, and the
template version that wrote it (checkpoint_versions.py reads those of older ones). Saves are
atomic: a crash, a kill or a full disk in the middle of one leaves the previous file intact.
"""

import contextlib
import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from checkpoint_versions import TEMPLATE_VERSION, OldCheckpointError, has_no_hash, upgrade
from utils import UserError

# What a run writes before its first checkpoint (a run that stopped then can start again).
BEFORE_FIRST_SAVE = {"config.json", "metrics.csv", "tensorboard", "wandb", "mlflow_run_id.txt"}
PREVIOUS = "previous.pt"  # last.pt's predecessor, the fallback when last.pt is damaged


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


def save_checkpoint(state: dict[str, Any], path: Path, keep_previous: bool = False) -> None:
    """Write to a temporary file, fsync it, then rename it over `path` (atomic, see above).
    With `keep_previous`, the file being replaced becomes previous.pt."""
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
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_last_run(runs_dir: str, name: str | None) -> tuple[Path, dict[str, Any]]:
    """The run to resume (`name`, or the newest in `runs_dir`) and its last checkpoint."""
    run_dir = Path(runs_dir) / name if name else latest_run(Path(runs_dir))
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    stale = sorted(run_dir.glob(".*.tmp"))  # left by saves that a crash or a kill cut short
    for file in stale:
        file.unlink(missing_ok=True)
    if stale:
        print(f"removed {len(stale)} unfinished temporary file(s) from {run_dir}")
    return run_dir, load_last_checkpoint(run_dir)
