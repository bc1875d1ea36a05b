"""Train the model on the data named in config.py.

    python train.py                        # settings from config.py
    python train.py --epochs 5 --lr 3e-4   # override any setting for this run
    python train.py --resume               # continue the newest run from its last.pt
    python train.py --help                 # every flag with its default
    torchrun --nproc_per_node 4 train.py   # 4 GPUs (or CPU processes): see distributed.py

Each run writes runs/<run-name>/: config.json, metrics.csv, last.pt (every epoch and every
--checkpoint-every N steps; previous.pt is the one before), best.pt (the lowest validation
loss) and history.png (loss and main metric per epoch). Then: python eval.py, predict.py.

train() and fit() are the seven steps of a PyTorch pipeline, marked # 1. to # 7.
"""

import sys
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import distributed
import plots
import task
import tracking
from checkpoints import open_last_run
from config import Config, parse_args, run_settings
from data_loader import load_data, make_loader
from distributed import Processes
from model import build_model, model_kwargs
from preprocessing import Preprocessing
from run_state import RunState
from utils import EarlyStopping, UserError, seed_everything


def train(cli: dict[str, Any], resume: bool, procs: Processes) -> None:
    checkpoint, run_dir = None, None
    if resume:  # process 0 reads the checkpoint and hands it to the others
        where = cli.get("runs_dir", Config.runs_dir), cli.get("run_name")
        run_dir, checkpoint = procs.on_main(lambda: open_last_run(*where))
    cfg = run_settings(cli, checkpoint["config"] if checkpoint else None, run_dir)
    batch_size = procs.share_of_batch(cfg.batch_size)  # --batch-size counts all processes
    seed_everything(cfg.seed + procs.rank)  # each process its own dropout and augmentation
    device, tracker_name = procs.device, tracking.usable(cfg.tracker)

    # 1. Load the data: read the file(s), split the samples into train / val / test.
    data = load_data(cfg, checkpoint)  # resuming: the same file, unchanged

    # 2. Preprocess: fit on the training split only (a resumed run reuses its saved fit).
    if checkpoint:
        preprocessing = Preprocessing.from_state_dict(checkpoint["preprocessing"])
    else:
        preprocessing = Preprocessing.fit(data.train, cfg)

    # 3. Dataset and DataLoader (the test set too: a bad value there stops the run now).
    train_set, val_set, test_set = map(preprocessing.dataset, (data.train, data.val, data.test))
    train_loader = make_loader(train_set, batch_size, procs, shuffle=True, seed=cfg.seed)
    val_loader = make_loader(val_set, cfg.batch_size, procs)

    # 4. Model: it returns raw scores (logits), whatever the task.
    out_features = len(preprocessing.targets.names)
    kwargs = model_kwargs(cfg, preprocessing.input_args(), out_features)
    kwargs = checkpoint["model_args"] if checkpoint else kwargs  # resuming: as it was built
    model = build_model(**kwargs).to(device)

    # 5. Loss and optimizer (task.py picks the loss that matches the task).
    criterion = task.make_loss(cfg, preprocessing.targets, train_loader.y).to(device)
    optimizer = make_optimizer(cfg, model, device)
    scheduler = make_scheduler(cfg, optimizer)
    scaler, autocast = mixed_precision(cfg, device)
    stopper = EarlyStopping(cfg.patience)
    run = RunState(
        cfg, procs, model, optimizer, scheduler, scaler, stopper, preprocessing, kwargs, data.sha256
    )
    if checkpoint:
        run.restore(checkpoint, run_dir)  # weights, optimizer, RNG, progress, ...
    else:
        run.start_new()
    if run.finished:
        return
    print(
        f"{len(train_set)} train / {len(val_set)} val / {len(test_set)} test samples; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; device {device}"
        + (f" x {procs.world} processes" if procs.world > 1 else "")
    )
    tracker = tracking.start(tracker_name, run.cfg, run.run_dir) if procs.main else None
    try:
        fit(run, train_loader, val_loader, criterion, autocast, tracker)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(run.after_interrupt()) from None


def fit(
    run: RunState,
    train_loader: Any,
    val_loader: Any,
    criterion: nn.Module,
    autocast: AbstractContextManager,
    tracker: tracking.Tracker | None,
) -> None:
    """Steps 6 and 7: train and validate epoch after epoch, and save each one."""
    cfg, procs, model, optimizer = run.cfg, run.procs, run.model, run.optimizer
    # 6. Training loop, with validation after every epoch. Under torchrun, DDP copies process
    # 0's weights to every process now, and averages the gradients in every backward().
    ddp_model = DistributedDataParallel(model, procs.device_ids) if procs.world > 1 else model
    for epoch in range(run.epoch + 1, cfg.epochs + 1):
        start = time.perf_counter()
        train_loader.set_epoch(epoch, skip=run.step)  # resuming mid-epoch: skip what is done
        train_loss = train_one_epoch(
            ddp_model, train_loader, criterion, optimizer, run.scaler, autocast, run
        )
        procs.sync_buffers(model)  # e.g. batch-norm statistics: evaluate process 0's model
        val_loss, metrics = evaluate(model, val_loader, criterion, run.preprocessing.targets, procs)
        lr = optimizer.param_groups[0]["lr"]
        if isinstance(run.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            run.scheduler.step(val_loss)
        elif run.scheduler is not None:
            run.scheduler.step()
        improved = run.stopper.step(val_loss)
        seconds = time.perf_counter() - start
        run.epoch_done(val_loss, metrics)

        # 7. Evaluation and saving: log the epoch first (if the run dies before last.pt is
        # saved, --resume trims the row), then save last.pt, and best.pt when the validation
        # loss is the lowest so far. eval.py scores the test split once training is done.
        if tracker is not None:
            log = run.run_dir / "metrics.csv"
            row = tracking.log_row(log, epoch, train_loss, val_loss, metrics, lr, seconds)
            tracker.log(row, epoch)
        run.save(best=improved)
        print(
            f"epoch {epoch:>3}/{cfg.epochs}  train_loss {train_loss:.4f}  val_loss {val_loss:.4f}"
            f"  val_{task.MAIN_METRIC} {metrics[task.MAIN_METRIC]:.4f}  lr {lr:.2e}"
            f"  {seconds:.1f}s" + ("  *best" if improved else "")
        )
        if run.stopper.should_stop:
            print(f"early stopping: no lower val_loss for {cfg.patience} epochs")
            break
    if tracker is not None:
        tracker.close()
        if figure := plots.history(run.run_dir, task.MAIN_METRIC):
            print(f"plotted the loss and val_{task.MAIN_METRIC}: {figure}")
    print(f"best val_loss {run.stopper.best:.4f}; checkpoints in {run.run_dir}/")
    print(f"next: python eval.py --run {run.run_dir}")


def train_one_epoch(
    model: nn.Module,
    loader: Any,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    autocast: AbstractContextManager,
    run: RunState,
) -> float:
    """One pass over the training data; returns the mean training loss (of all processes)."""
    model.train()
    device = run.procs.device
    for x, y in run.progress_bar(loader):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast:  # mixed precision where it is on (CUDA); otherwise it does nothing
            logits = model(x)  # raw scores: the loss applies the activation itself
            loss = criterion(logits, y)
        run.check_finite(loss)  # before backward(): a NaN never reaches the weights
        scaler.scale(loss).backward()  # (a no-op scaler without float16); DDP averages grads
        scaler.step(optimizer)
        scaler.update()
        run.step_done(len(y))  # the epoch's loss; a checkpoint every --checkpoint-every
    return run.epoch_loss()


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Any, criterion: nn.Module, targets: Any, procs: Processes
) -> tuple[float, dict[str, Any]]:
    """Loss and metrics on a split, in eval mode and without gradients. Under torchrun each
    process scores its own share of the split, and their counts and sums are added up."""
    model.eval()
    outputs, labels = [], []
    for x, y in loader:
        outputs.append(model(x.to(procs.device, non_blocking=True)).float())
        labels.append(y.to(procs.device, non_blocking=True))
    logits, y = torch.cat(outputs), torch.cat(labels)
    pred, probs = task.predict(logits, targets)
    state = task.metric_state(y.cpu(), pred, probs, targets)
    state["loss_sum"] = (criterion(logits, y) * len(y)).cpu().double()
    state["samples"] = torch.tensor(float(len(y)), dtype=torch.float64)
    state = procs.combine(state, task.GATHERED)
    loss = (state.pop("loss_sum") / state.pop("samples")).item()
    return loss, task.metrics_from_state(state, targets)


def make_optimizer(cfg: Config, model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    # Fused kernels update all parameters in one go instead of looping over them.
    fused = device.type in ("cpu", "cuda")
    kwargs = {"lr": cfg.lr, "weight_decay": cfg.weight_decay, "fused": fused}
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), momentum=cfg.momentum, nesterov=True, **kwargs)
    adam = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return adam(model.parameters(), **kwargs)


def make_scheduler(cfg: Config, optimizer: torch.optim.Optimizer) -> Any:
    """A learning-rate schedule stepped once per epoch (None for a constant rate)."""
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, cfg.epochs // 3))
    if cfg.scheduler == "plateau":
        patience = cfg.plateau_patience
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=patience)
    return None


def mixed_precision(
    cfg: Config, device: torch.device
) -> tuple[torch.amp.GradScaler, AbstractContextManager]:
    """On CUDA with --amp: bfloat16 on GPUs that compute in it natively (Ampere and newer),
    else float16 with a gradient scaler. Elsewhere: float32, and a scaler that does nothing."""
    dtype = None
    if cfg.amp and device.type == "cuda":
        native_bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        dtype = torch.bfloat16 if native_bf16 else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    return scaler, torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()


def main() -> None:
    cli, resume = parse_args(__doc__)
    procs = distributed.start(cli.get("device", Config.device))
    try:
        train(cli, resume, procs)
        procs.wait_for_all()
    finally:
        distributed.stop()


if __name__ == "__main__":
    try:
        main()
    except UserError as e:  # every process stops; process 0 says why
        sys.exit(f"error: {e}" if distributed.is_main_process() else 1)
    except KeyboardInterrupt as e:  # with what to do next, once the run has a folder
        what = str(e) or "before training started: nothing was saved"
        sys.exit(f"interrupted: {what}" if distributed.is_main_process() else 1)
