"""Train the model on the data named in config.py.

    python train.py                        # settings from config.py
    python train.py --epochs 5 --lr 3e-4   # override any setting for this run
    python train.py --resume               # continue the newest run from its last.pt
    python train.py --help                 # every flag with its default
    torchrun --nproc_per_node 4 train.py   # 4 GPUs (or CPU processes): see distributed.py

Each run writes runs/<run-name>/: config.json, metrics.csv, last.pt (every epoch, and every
--checkpoint-every N steps), previous.pt (the one before, a fallback if last.pt is damaged),
best.pt (the epoch with the lowest validation loss) and history.png (loss and main metric per
epoch, when matplotlib is installed). Then: python eval.py, python predict.py.
"""

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

import distributed
import plots
import task
import tracking
from config import Config, add_config_flags
from data_loader import Split, Splits, epoch_sampler, load_splits
from distributed import Processes
from model import build_model, model_args
from tracking import log_row, read_log, trim_log
from utils import (
    EarlyStopping,
    UserError,
    collect_logits,
    latest_run,
    load_last_checkpoint,
    new_run_dir,
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
    procs: Processes,
    progress: dict[str, Any],
    save: Callable[[], None],
) -> float:
    """One pass over the training split; returns the mean training loss (of all processes).

    `progress` holds the steps of this epoch already done and the sum of their losses: 0 for a
    new epoch, more when resuming one. With --checkpoint-every N it is brought up to date and
    `save()` is called every N steps.
    """
    model.train()
    # This process's share of the epoch, in an order seeded by seed + epoch: a resumed run
    # sees exactly the same batches. --batch-size counts the samples of one optimizer step
    # over all processes, so each process takes batch_size / world of them.
    sampler = epoch_sampler(len(split), cfg.seed, epoch, procs.rank, procs.world)
    batch_size = cfg.batch_size // procs.world
    # Mixed precision only where it is on; otherwise a context that costs nothing per step.
    autocast = torch.autocast(procs.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    batches = split.batches(batch_size, sampler)
    for _ in range(progress["step"]):  # resuming mid-epoch: skip the batches already trained
        next(batches)
    losses, sizes = [], []
    steps = -(-len(sampler) // batch_size)
    with tqdm(
        total=steps,
        initial=progress["step"],
        desc=f"epoch {epoch}",
        leave=False,
        disable=None if procs.main else True,
    ) as bar:
        for step, (x, y) in enumerate(batches, start=progress["step"] + 1):
            x = x.to(procs.device, non_blocking=True)  # no-ops when the split already lives there
            y = y.to(procs.device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = model(x)  # raw scores: the loss applies the activation itself
                loss = criterion(logits, y)
            # Before backward(): a NaN never reaches the weights. Under torchrun the check adds
            # up every process's loss, so all of them stop at the same step.
            checked = procs.sum(loss.detach())
            if not torch.isfinite(checked):
                raise UserError(
                    f"the training loss is {checked.item()} at epoch {epoch}, step {step}: "
                    "stopped before the optimizer step; the last checkpoint is untouched "
                    "(try a lower --lr, or look for extreme values in the data)"
                )
            scaler.scale(loss).backward()  # under DDP, also averages the gradients
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
                progress["loss_sum"] += summed_loss(losses, sizes, procs)
                progress["step"], losses, sizes = step, [], []
                save()
    total = progress["loss_sum"] + summed_loss(losses, sizes, procs)
    return total / (len(sampler) * procs.world)


def summed_loss(losses: list[torch.Tensor], sizes: list[int], procs: Processes) -> float:
    """The sum over samples (of every process) of per-batch mean losses, as a Python float:
    one device sync."""
    local = torch.zeros((), dtype=torch.float64)
    if losses:
        local = (torch.stack(losses).double().cpu() * torch.tensor(sizes).double()).sum()
    return procs.sum(local).item()


def evaluate(
    model: nn.Module,
    split: Split,
    criterion: nn.Module,
    data: Splits,
    cfg: Config,
    procs: Processes,
) -> tuple[float, dict[str, Any]]:
    """Loss and metrics on a split, in eval mode and without gradients. Under torchrun each
    process scores its own share of the split, and their counts and sums are added up."""
    logits = collect_logits(model, split.inputs(cfg.batch_size))
    y = split.y.to(logits.device)
    pred, probs = task.predict(logits, data.targets)
    state = task.metric_state(split.y, pred, probs, data.targets)
    state["loss_sum"] = (criterion(logits, y) * len(y)).detach().double().cpu()
    state["samples"] = torch.tensor(float(len(y)), dtype=torch.float64)
    state = procs.combine(state, task.GATHERED)
    loss = (state.pop("loss_sum") / state.pop("samples")).item()
    return loss, task.metrics_from_state(state, data.targets)


def share(split: Split, procs: Processes) -> Split:
    """This process's share of an evaluation split: every world-th sample, none repeated."""
    if procs.world == 1:
        return split
    if len(split) < procs.world:
        raise UserError(
            f"the validation split has {len(split)} sample(s), fewer than the {procs.world} "
            "processes: use a larger --val-size"
        )
    return split.subset(np.arange(procs.rank, len(split), procs.world))


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's random generators (dropout, augmentation), to resume them exactly."""
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return {"torch": torch.get_rng_state(), "cuda": cuda}


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


def parse_args() -> tuple[dict[str, Any], bool]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_config_flags(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a run from its last.pt: --run (default: the newest run)",
    )
    parser.add_argument(
        "--run", type=Path, help="with --resume: the run folder to continue, e.g. runs/NAME"
    )
    args = vars(parser.parse_args())
    run, resume = args.pop("run"), args.pop("resume")
    if run is not None:
        if not resume:
            parser.error("--run needs --resume (a new run is named with --run-name)")
        if args.get("run_name") not in (None, run.name):
            parser.error("--run and --run-name name different runs: give one")
        args |= {"runs_dir": str(run.parent), "run_name": run.name}
    return args, resume


def make_config(values: dict[str, Any]) -> Config:
    try:
        return Config.from_dict(values)
    except ValueError as e:
        raise UserError(f"bad setting: {e}") from None


def open_last_run(overrides: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """The run to resume (--run-name, or the newest) and its last checkpoint."""
    runs_dir = Path(overrides.get("runs_dir", Config.runs_dir))
    name = overrides.get("run_name")
    run_dir = runs_dir / name if name else latest_run(runs_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    remove_stale_files(run_dir)  # left by a save that a crash or a kill cut short
    return run_dir, load_last_checkpoint(run_dir)


def main() -> None:
    overrides, resume = parse_args()
    procs = distributed.start(overrides.get("device", Config.device))
    try:
        train(procs, overrides, resume)
    finally:
        distributed.stop()


def train(procs: Processes, overrides: dict[str, Any], resume: bool) -> None:
    checkpoint = None
    if resume:
        # Process 0 reads the checkpoint and hands it to the others.
        run_dir, checkpoint = procs.on_main(lambda: open_last_run(overrides))
        # The device is chosen afresh (--device, default auto): the run may move machines.
        saved = {**checkpoint["config"], "device": Config.device}
        cfg = make_config({**saved, **overrides, "run_name": run_dir.name})
    else:
        cfg = make_config(overrides)
    if cfg.batch_size % procs.world:
        raise UserError(
            f"--batch-size {cfg.batch_size} does not split evenly over {procs.world} "
            f"processes: use a multiple of {procs.world}"
        )
    seed_everything(cfg.seed + procs.rank)  # each process its own dropout and augmentation
    device = procs.device
    tracker_name = tracking.usable(cfg.tracker)

    data = load_splits(cfg, checkpoint["preprocessing"] if checkpoint else None)
    # The table moves to the device once, for the whole run: no copies per batch.
    train_split, val_split = data.train.to(device), share(data.val, procs).to(device)
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
        start_epoch = checkpoint["epoch"] + 1
        progress.update(checkpoint["progress"])
        last_val = {k: checkpoint[k] for k in last_val}
        if stopper.should_stop or start_epoch > cfg.epochs:
            print(f"{run_dir} finished at epoch {checkpoint['epoch']}: nothing to resume.")
            print("To train longer, start a new run with a larger --epochs.")
            return
        if scheduler is not None and cfg.epochs != checkpoint["config"]["epochs"]:
            print("note: the learning-rate schedule keeps its original length")
        rngs = checkpoint["rng"]  # one per process
        if len(rngs) == procs.world:
            set_rng_state(rngs[procs.rank], device)  # dropout and augmentation
        else:
            print(
                f"note: saved by {len(rngs)} process(es), continuing on "
                f"{procs.world}: the batches differ from those of an uninterrupted run"
            )
            progress.update(step=0, loss_sum=0.0)  # the shares changed: redo the whole epoch
        if procs.main:
            trim_log(run_dir / "metrics.csv", checkpoint["epoch"])
        step = f", step {progress['step'] + 1}" if progress["step"] else ""
        print(f"resuming {run_dir} at epoch {start_epoch}{step}")
    else:
        run_dir = procs.on_main(lambda: new_run_dir(Path(cfg.runs_dir), cfg.run_name))
        cfg = dataclasses.replace(cfg, run_name=run_dir.name)
    if procs.main:
        (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    tracker = tracking.start(tracker_name, cfg, run_dir) if procs.main else tracking.Tracker()
    # One copy of the model per process; DDP copies process 0's weights to the others now
    # and averages the gradients in every backward().
    trained = model
    if procs.world > 1:
        device_ids = [device] if device.type == "cuda" else None
        trained = DistributedDataParallel(model, device_ids=device_ids)

    def snapshot(epochs_done: int) -> dict[str, Any]:
        """Everything a fresh process needs to continue exactly from here (every process
        calls it: it gathers their random generators)."""
        return {
            "epoch": epochs_done,
            "progress": dict(progress),
            "model": model.state_dict(),
            "model_args": args,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict(),
            "early_stopping": stopper.state_dict(),
            "rng": procs.gather(rng_state(device)),  # one per process
            "config": dataclasses.asdict(cfg),
            "preprocessing": data.state_dict(),
            **last_val,
        }

    def save_mid_epoch() -> None:
        state = snapshot(epoch - 1)
        if procs.main:
            save_checkpoint(state, run_dir / "last.pt", keep_previous=True)

    print(
        f"{len(data.train)} train / {len(data.val)} val / {len(data.test)} test samples; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; device {device}"
        + (f" x {procs.world} processes" if procs.world > 1 else "")
    )
    for epoch in range(start_epoch, cfg.epochs + 1):
        start = time.perf_counter()
        train_loss = train_one_epoch(
            trained,
            train_split,
            criterion,
            optimizer,
            scaler,
            amp_dtype,
            cfg,
            epoch,
            procs,
            progress,
            save_mid_epoch,
        )
        progress.update(step=0, loss_sum=0.0)
        procs.sync_buffers(model)  # e.g. batch-norm statistics: evaluate process 0's model
        val_loss, metrics = evaluate(model, val_split, criterion, data, cfg, procs)
        lr = optimizer.param_groups[0]["lr"]
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(val_loss)
        elif scheduler is not None:
            scheduler.step()
        improved = stopper.step(val_loss)
        seconds = time.perf_counter() - start
        last_val = {"val_loss": val_loss, "val_metrics": metrics}

        state = snapshot(epoch)
        if procs.main:
            # The log row first: if the run dies before last.pt is saved, --resume trims it.
            row = log_row(
                run_dir / "metrics.csv", epoch, train_loss, val_loss, metrics, lr, seconds
            )
            tracker.log(row, epoch)
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

    tracker.close()
    if procs.main and plots.history(read_log(run_dir / "metrics.csv"), task.MAIN_METRIC, run_dir):
        print(f"plotted the loss and val_{task.MAIN_METRIC} per epoch: {run_dir / 'history.png'}")
    print(f"best val_loss {stopper.best:.4f}; checkpoints in {run_dir}/")
    print(f"next: python eval.py --run {run_dir}")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:  # every process stops; process 0 says why
        sys.exit(f"error: {e}" if distributed.is_main_process() else 1)
    except KeyboardInterrupt:
        if distributed.is_main_process():
            sys.exit("interrupted: continue with `python train.py --resume`")
        sys.exit(1)
