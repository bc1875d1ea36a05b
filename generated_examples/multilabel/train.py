"""Train the model on the data named in config.py.

    python train.py                        # settings from config.py
    python train.py --epochs 5 --lr 3e-4   # override any setting for this run
    python train.py --resume               # continue the newest run from its last.pt
    python train.py --help                 # every flag with its default

Each run writes runs/<run-name>/: config.json, metrics.csv, last.pt (every epoch, and every
--checkpoint-every N steps), previous.pt (the one before, a fallback if last.pt is damaged) and
best.pt (the epoch with the lowest validation loss). Then: python eval.py, python predict.py.
"""

import argparse
import csv
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

import task
from config import Config, add_config_flags
from data_loader import Split, Splits, load_splits
from model import build_model, model_args
from utils import (
    EarlyStopping,
    UserError,
    collect_logits,
    latest_run,
    load_last_checkpoint,
    new_run_dir,
    pick_device,
    remove_stale_files,
    save_checkpoint,
    seed_everything,
)


def make_optimizer(cfg: Config, model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    # Fused kernels update all parameters in one go instead of looping over them.
    fused = device.type in ("cpu", "cuda")
    params, lr, wd = model.parameters(), cfg.lr, cfg.weight_decay
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, fused=fused)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=fused)
    return torch.optim.SGD(
        params, lr=lr, momentum=cfg.momentum, nesterov=True, weight_decay=wd, fused=fused
    )


def make_scheduler(cfg: Config, optimizer: torch.optim.Optimizer) -> LRScheduler | None:
    """A learning-rate schedule stepped once per epoch (None for a constant rate)."""
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, cfg.epochs // 3))
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=cfg.patience // 2)
    return None


def train_one_epoch(
    model: nn.Module,
    split: Split,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    amp_dtype: torch.dtype | None,
    cfg: Config,
    epoch: int,
    device: torch.device,
    progress: dict[str, Any],
    save: Callable[[], None],
) -> float:
    """One pass over the training split; returns the mean training loss.

    `progress` holds the steps of this epoch already done and the sum of their losses: 0 for a
    new epoch, more when resuming one. With --checkpoint-every N it is brought up to date and
    `save()` is called every N steps.
    """
    model.train()
    # A fresh generator per epoch: a resumed run sees exactly the same batches.
    generator = torch.Generator().manual_seed(cfg.seed + epoch)
    # Mixed precision only where it is on; otherwise a context that costs nothing per step.
    autocast = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    batches = split.batches(cfg.batch_size, generator)
    for _ in range(progress["step"]):  # resuming mid-epoch: skip the batches already trained
        next(batches)
    losses, sizes = [], []
    steps = -(-len(split) // cfg.batch_size)
    with tqdm(
        total=steps, initial=progress["step"], desc=f"epoch {epoch}", leave=False, disable=None
    ) as bar:
        for step, (x, y) in enumerate(batches, start=progress["step"] + 1):
            x = x.to(device, non_blocking=True)  # no-ops when the split already lives there
            y = y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = model(x)  # raw scores: the loss applies the activation itself
                loss = criterion(logits, y)
            if not torch.isfinite(loss):  # before backward(): a NaN never reaches the weights
                raise UserError(
                    f"the training loss is {loss.item()} at epoch {epoch}, step {step}: "
                    "stopped before the optimizer step; the last checkpoint is untouched "
                    "(try a lower --lr, or look for extreme values in the data)"
                )
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            # Keep the losses on the device: loss.item() every step would make the CPU wait
            # for the GPU each time. One sync per log_interval, and one after the epoch.
            losses.append(loss.detach())
            sizes.append(len(y))
            if step % cfg.log_interval == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
            bar.update()
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < steps:
                progress["loss_sum"] += summed_loss(losses, sizes)
                progress["step"], losses, sizes = step, [], []
                save()
    return (progress["loss_sum"] + summed_loss(losses, sizes)) / len(split)


def summed_loss(losses: list[torch.Tensor], sizes: list[int]) -> float:
    """The sum over samples of per-batch mean losses, as a Python float (one device sync)."""
    if not losses:
        return 0.0
    return (torch.stack(losses).float().cpu() * torch.tensor(sizes)).sum().item()


def evaluate(
    model: nn.Module,
    split: Split,
    criterion: nn.Module,
    data: Splits,
    cfg: Config,
) -> tuple[float, dict[str, Any]]:
    """Loss and metrics on a split, in eval mode and without gradients."""
    logits = collect_logits(model, split.inputs(cfg.batch_size))
    loss = criterion(logits, split.y.to(logits.device)).item()
    pred, probs = task.predict(logits, data.targets)
    return loss, task.compute_metrics(split.y, pred, probs, data.targets)


def parse_args() -> tuple[dict[str, Any], bool]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_config_flags(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run named by --run-name (default: the newest run) from its last.pt",
    )
    args = vars(parser.parse_args())
    return args, args.pop("resume")


def make_config(values: dict[str, Any]) -> Config:
    try:
        return Config.from_dict(values)
    except ValueError as e:
        raise UserError(f"bad setting: {e}") from None


def main() -> None:
    overrides, resume = parse_args()
    checkpoint = None
    if resume:
        runs_dir = Path(overrides.get("runs_dir", Config.runs_dir))
        name = overrides.get("run_name")
        run_dir = runs_dir / name if name else latest_run(runs_dir)
        remove_stale_files(run_dir)  # left by a save that a crash or a kill cut short
        checkpoint = load_last_checkpoint(run_dir)
        cfg = make_config({**checkpoint["config"], **overrides, "run_name": run_dir.name})
    else:
        cfg = make_config(overrides)
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)

    data = load_splits(cfg, checkpoint["preprocessing"] if checkpoint else None)
    # The table moves to the device once, for the whole run: no copies per batch.
    train_split, val_split = data.train.to(device), data.val.to(device)
    args = model_args(cfg, data.input_args(), out_features=len(data.targets.names))
    model = build_model(**args).to(device)
    criterion = task.make_loss(cfg, data.targets, data.train.y).to(device)
    optimizer = make_optimizer(cfg, model, device)
    scheduler = make_scheduler(cfg, optimizer)
    # Mixed precision on CUDA: bfloat16 where supported; float16 needs a gradient scaler.
    amp_dtype = None
    if cfg.amp and device.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    stopper = EarlyStopping(cfg.patience)
    start_epoch = 1
    progress = {"step": 0, "loss_sum": 0.0}  # within the current epoch
    last_val = {"val_loss": None, "val_metrics": None}  # of the last complete epoch

    if checkpoint:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint["scheduler"] is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
        scaler.load_state_dict(checkpoint["scaler"])
        stopper.load_state_dict(checkpoint["early_stopping"])
        torch.set_rng_state(checkpoint["rng"]["torch"])  # dropout and augmentation
        if device.type == "cuda" and checkpoint["rng"]["cuda"]:
            torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
        start_epoch = checkpoint["epoch"] + 1
        progress.update(checkpoint["progress"])
        last_val = {k: checkpoint[k] for k in last_val}
        if stopper.should_stop or start_epoch > cfg.epochs:
            print(f"{run_dir} finished at epoch {checkpoint['epoch']}: nothing to resume.")
            print("To train longer, start a new run with a larger --epochs.")
            return
        if scheduler is not None and cfg.epochs != checkpoint["config"]["epochs"]:
            print("note: the learning-rate schedule keeps its original length")
        trim_log(run_dir / "metrics.csv", checkpoint["epoch"])
        step = f", step {progress['step'] + 1}" if progress["step"] else ""
        print(f"resuming {run_dir} at epoch {start_epoch}{step}")
    else:
        run_dir = new_run_dir(Path(cfg.runs_dir), cfg.run_name)
        cfg = dataclasses.replace(cfg, run_name=run_dir.name)
    (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")

    def snapshot(epochs_done: int) -> dict[str, Any]:
        """Everything a fresh process needs to continue exactly from here."""
        return {
            "epoch": epochs_done,
            "progress": dict(progress),
            "model": model.state_dict(),
            "model_args": args,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict(),
            "early_stopping": stopper.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
            },
            "config": dataclasses.asdict(cfg),
            "preprocessing": data.state_dict(),
            **last_val,
        }

    def save_mid_epoch() -> None:
        save_checkpoint(snapshot(epoch - 1), run_dir / "last.pt", keep_previous=True)

    print(
        f"{len(data.train)} train / {len(data.val)} val / {len(data.test)} test samples; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; device {device}"
    )
    for epoch in range(start_epoch, cfg.epochs + 1):
        start = time.perf_counter()
        train_loss = train_one_epoch(
            model,
            train_split,
            criterion,
            optimizer,
            scaler,
            amp_dtype,
            cfg,
            epoch,
            device,
            progress,
            save_mid_epoch,
        )
        progress.update(step=0, loss_sum=0.0)
        val_loss, metrics = evaluate(model, val_split, criterion, data, cfg)
        lr = optimizer.param_groups[0]["lr"]
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(val_loss)
        elif scheduler is not None:
            scheduler.step()
        improved = stopper.step(val_loss)
        seconds = time.perf_counter() - start
        last_val = {"val_loss": val_loss, "val_metrics": metrics}

        # The log row first: if the run dies before last.pt is saved, --resume trims it away.
        log_row(run_dir / "metrics.csv", epoch, train_loss, val_loss, metrics, lr, seconds)
        state = snapshot(epoch)
        save_checkpoint(state, run_dir / "last.pt", keep_previous=True)
        if improved:
            save_checkpoint(state, run_dir / "best.pt")

        main_metric = metrics[task.MAIN_METRIC]
        print(
            f"epoch {epoch:>3}/{cfg.epochs}  train_loss {train_loss:.4f}  val_loss {val_loss:.4f}"
            f"  val_{task.MAIN_METRIC} {main_metric:.4f}  lr {lr:.2e}  {seconds:.1f}s"
            + ("  *best" if improved else "")
        )
        if stopper.should_stop:
            print(f"early stopping: no lower val_loss for {cfg.patience} epochs")
            break

    print(f"best val_loss {stopper.best:.4f}; checkpoints in {run_dir}/")
    print(f"next: python eval.py --run {run_dir}")


def log_row(
    path: Path,
    epoch: int,
    train_loss: float,
    val_loss: float,
    metrics: dict[str, Any],
    lr: float,
    seconds: float,
) -> None:
    """Append one epoch to metrics.csv (scalar metrics only)."""
    scalars = {f"val_{k}": v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, **scalars}
    row |= {"lr": lr, "seconds": round(seconds, 3)}
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def trim_log(path: Path, last_epoch: int) -> None:
    """Keep the complete metrics.csv rows up to the checkpoint's epoch: a killed run may have
    logged an epoch it never saved, or only part of a line."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = [
            row
            for row in reader
            if None not in row.values() and row.get("epoch", "").isdigit()
            if int(row["epoch"]) <= last_epoch
        ]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    tmp.replace(path)


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:
        sys.exit("interrupted: continue with `python train.py --resume`")
