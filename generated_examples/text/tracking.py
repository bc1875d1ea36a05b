"""What a run records besides its checkpoints: metrics.csv, always, and one experiment tracker
chosen by --tracker (default in config.py). To look at the runs:

    tensorboard  tensorboard --logdir runs                  (runs/NAME/tensorboard/)
    wandb        wandb sync runs/NAME/wandb/offline-run-*   (offline; or WANDB_MODE=online)
    mlflow       mlflow ui --backend-store-uri sqlite:///runs/mlflow.db  (or MLFLOW_TRACKING_URI)
    none         metrics.csv only

TensorBoard comes with the project's install; wandb and mlflow are optional extras (pip install
".[wandb]" or ".[mlflow]"), imported only when chosen. All work offline; process 0 writes.
"""

import csv
import dataclasses
import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

from config import Config
from utils import UserError

PROJECT = "text"  # the W&B project and the MLflow experiment


def log_row(
    path: Path,
    epoch: int,
    train_loss: float,
    val_loss: float,
    metrics: dict[str, Any],
    lr: float,
    seconds: float,
) -> dict[str, float]:
    """Append one epoch to metrics.csv (scalar metrics only) and return the row."""
    scalars = {f"val_{k}": v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, **scalars}
    row |= {"lr": lr, "seconds": round(seconds, 3)}
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
    return row


def trim_log(path: Path, last_epoch: int) -> None:
    """Keep the complete metrics.csv rows up to the checkpoint's epoch: a killed run may have
    logged an epoch it never saved, or only part of a line."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        complete = [row for row in reader if None not in row.values()]
    rows = [r for r in complete if r.get("epoch", "").isdigit() and int(r["epoch"]) <= last_epoch]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    tmp.replace(path)


def usable(name: str) -> str:
    """The tracker to use, checked before training on every process: a chosen tracker whose
    package is missing stops the run, except TensorBoard (the default): a note, and "none"."""
    try:
        if name != "none":
            importlib.import_module(name)  # each tracker's package has its name
    except ImportError:
        if name != "tensorboard":
            hint = f"pip install {name} (or pass --tracker none)"
            raise UserError(f"--tracker {name} needs the {name} package: {hint}") from None
        print("note: tensorboard is not installed, so no TensorBoard logs (pip install it)")
        return "none"
    return name


class Tracker:
    """The interface, and --tracker none: metrics.csv alone."""

    def log(self, row: dict[str, float], epoch: int) -> None:
        pass

    def close(self) -> None:
        pass


class TensorBoard(Tracker):
    def __init__(self, cfg: Config, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
        self.writer.add_text("config", f"```\n{json.dumps(flat_config(cfg), indent=2)}\n```")

    def log(self, row: dict[str, float], epoch: int) -> None:
        for key, value in row.items():
            if key != "epoch" and value is not None:
                self.writer.add_scalar(key, value, epoch)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class WandB(Tracker):
    def __init__(self, cfg: Config, run_dir: Path) -> None:
        import wandb

        self.run = wandb.init(
            project=PROJECT,
            name=run_dir.name,
            id=re.sub(r"[^A-Za-z0-9_-]", "-", run_dir.name),  # a resumed run continues it
            resume="allow",
            dir=run_dir,
            config=dataclasses.asdict(cfg),
            mode=os.environ.get("WANDB_MODE", "offline"),
        )

    def log(self, row: dict[str, float], epoch: int) -> None:
        self.run.log({k: v for k, v in row.items() if v is not None}, step=epoch)

    def close(self) -> None:
        self.run.finish()


class MLflow(Tracker):
    def __init__(self, cfg: Config, run_dir: Path) -> None:
        import mlflow

        store = (run_dir.parent / "mlflow.db").resolve()
        mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store}")
        mlflow.set_experiment(PROJECT)
        id_file = run_dir / "mlflow_run_id.txt"  # a resumed run continues the same MLflow run
        if id_file.exists():
            self.run = mlflow.start_run(run_id=id_file.read_text().strip())
        else:
            self.run = mlflow.start_run(run_name=run_dir.name)
            id_file.write_text(self.run.info.run_id + "\n")
            mlflow.log_params(flat_config(cfg))
        self.mlflow = mlflow

    def log(self, row: dict[str, float], epoch: int) -> None:
        values = {k: v for k, v in row.items() if k != "epoch" and v is not None}
        self.mlflow.log_metrics(values, step=epoch)

    def close(self) -> None:
        self.mlflow.end_run()


def start(name: str, cfg: Config, run_dir: Path) -> Tracker:
    """Tracker `name`, as returned by usable() (process 0 only)."""
    if name == "none":
        return Tracker()
    return {"tensorboard": TensorBoard, "wandb": WandB, "mlflow": MLflow}[name](cfg, run_dir)


def flat_config(cfg: Config) -> dict[str, str]:
    """The settings as text, one entry per setting (lists joined by commas)."""
    return {k: ",".join(map(str, v)) if type(v) is list else str(v) for k, v in vars(cfg).items()}
