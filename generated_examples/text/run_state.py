"""The state of a training run: the model, optimizer, learning-rate schedule, gradient scaler,
early stopping, progress within the epoch, preprocessing and settings. save() writes them with
the random generators of every process (checkpoints.py does the file work); restore() puts them
back for --resume, whichever release or machine wrote them.
"""

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from checkpoints import new_run_dir, save_checkpoint
from config import Config
from distributed import Processes
from tracking import trim_log
from utils import EarlyStopping, UserError


@dataclasses.dataclass
class RunState:
    cfg: Config
    procs: Processes
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any  # None for a constant learning rate
    scaler: torch.amp.GradScaler
    stopper: EarlyStopping
    preprocessing: Any
    model_kwargs: dict[str, Any]
    data_sha256: str  # of cfg.data (tables.fingerprint): --resume and eval.py refuse it changed
    run_dir: Path = Path()
    epoch: int = 0  # epochs done
    step: int = 0  # steps done in the current epoch
    loss_sum: float = 0.0  # sum over those steps' samples (of every process) of the loss
    last_loss: float = 0.0  # the latest step's loss, summed over the processes
    val_loss: float | None = None  # of the last epoch done
    val_metrics: dict | None = None
    bar: tqdm | None = None
    steps: int = 0  # this process's, in the current epoch
    samples: int = 0

    @property
    def finished(self) -> bool:
        return self.stopper.should_stop or self.epoch >= self.cfg.epochs

    def write_config(self) -> None:
        if self.procs.main:
            text = json.dumps(dataclasses.asdict(self.cfg), indent=2) + "\n"
            (self.run_dir / "config.json").write_text(text)

    def start_new(self) -> None:
        """Create the folder of a new run."""
        cfg = self.cfg
        self.run_dir = self.procs.on_main(lambda: new_run_dir(Path(cfg.runs_dir), cfg.run_name))
        self.cfg = dataclasses.replace(cfg, run_name=self.run_dir.name)
        self.write_config()

    def state_dict(self) -> dict[str, Any]:
        """All a fresh process needs to continue from here (every process calls it)."""
        return {
            "epoch": self.epoch,
            "progress": {"step": self.step, "loss_sum": self.loss_sum},
            "model": self.model.state_dict(),
            "model_args": self.model_kwargs,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict(),
            "early_stopping": self.stopper.state_dict(),
            "rng": self.procs.gather(rng_state(self.procs.device)),  # one per process
            "config": dataclasses.asdict(self.cfg),
            "preprocessing": self.preprocessing.state_dict(),
            "data_sha256": self.data_sha256,
            "val_loss": self.val_loss,
            "val_metrics": self.val_metrics,
        }

    def save(self, best: bool = False) -> None:
        """last.pt (the one it replaces becomes previous.pt), and best.pt when `best`. Every
        process calls it (for its random generators); process 0 writes."""
        state = self.state_dict()
        if self.procs.main:
            save_checkpoint(state, self.run_dir / "last.pt", keep_previous=True)
            if best:
                save_checkpoint(state, self.run_dir / "best.pt")

    def restore(self, checkpoint: dict[str, Any], run_dir: Path) -> None:
        """Continue the run saved in `checkpoint` (see `finished` for one that had ended)."""
        self.run_dir = run_dir
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint["scheduler"] is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        # A scaler that was off when saved (CPU, MPS, bfloat16, --no-amp) saved nothing: one
        # that is on now (float16 on this GPU) starts from its default scale.
        if checkpoint["scaler"]:
            self.scaler.load_state_dict(checkpoint["scaler"])
        self.stopper.load_state_dict(checkpoint["early_stopping"])
        self.epoch = checkpoint["epoch"]
        progress = checkpoint["progress"]
        self.step, self.loss_sum = progress["step"], progress["loss_sum"]
        self.val_loss, self.val_metrics = checkpoint["val_loss"], checkpoint["val_metrics"]
        if self.finished:
            print(f"{run_dir} finished at epoch {self.epoch}: nothing to resume.")
            print("To train longer, start a new run with a larger --epochs.")
            return
        if self.scheduler is not None and self.cfg.epochs != checkpoint["config"]["epochs"]:
            print("note: the learning-rate schedule keeps its original length")
        rngs = checkpoint["rng"]  # one per process
        if len(rngs) == self.procs.world:
            set_rng_state(rngs[self.procs.rank], self.procs.device)  # dropout, augmentation
        else:
            print(
                f"note: saved by {len(rngs)} process(es), continuing on {self.procs.world}: "
                "the batches differ from those of an uninterrupted run"
            )
            self.step, self.loss_sum = 0, 0.0  # the shares changed: redo the whole epoch
        if self.procs.main:
            trim_log(run_dir / "metrics.csv", self.epoch)
        self.write_config()
        step = f", step {self.step + 1}" if self.step else ""
        print(f"resuming {run_dir} at epoch {self.epoch + 1}{step}")

    def after_interrupt(self) -> str:
        """What to do after Ctrl-C: continue this run, or start it again if nothing was saved."""
        if (self.run_dir / "last.pt").exists():
            return f"continue with `python train.py --resume --run {self.run_dir}`"
        again = "run the same command to start again"
        return f"before the first checkpoint of {self.run_dir}: nothing was saved yet ({again})"

    def progress_bar(self, loader: Any) -> tqdm:
        """The loader's batches of this epoch behind a progress bar (process 0 only)."""
        self.steps, self.samples = len(loader), loader.samples
        desc, off = f"epoch {self.epoch + 1}", None if self.procs.main else True  # None: auto
        self.bar = tqdm(loader, desc, self.steps, initial=self.step, leave=False, disable=off)
        return self.bar

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop when the loss is NaN or infinite (under torchrun: any process's, so that all
        stop together). The one sync with the device per step: the loss is read here, once."""
        self.last_loss = self.procs.sum(loss.detach()).item()
        if not math.isfinite(self.last_loss):
            raise UserError(
                f"the training loss is {self.last_loss} at epoch {self.epoch + 1}, step "
                f"{self.step + 1}: stopped before the optimizer step; the last checkpoint is "
                "untouched (try a lower --lr, or look for extreme values in the data)"
            )

    def step_done(self, batch_size: int) -> None:
        """Count a step of `batch_size` samples per process (every process's batch has the
        same size), with the loss check_finite read."""
        self.step += 1
        self.loss_sum += self.last_loss * batch_size
        if self.step % self.cfg.log_interval == 0 and self.bar is not None:
            self.bar.set_postfix(loss=f"{self.last_loss / self.procs.world:.4f}")
        every = self.cfg.checkpoint_every
        if every and self.step % every == 0 and self.step < self.steps:
            self.save()

    def epoch_loss(self) -> float:
        """The mean training loss of the epoch (over the samples of every process)."""
        if self.bar is not None:
            self.bar.close()
        return self.loss_sum / (self.samples * self.procs.world)

    def epoch_done(self, val_loss: float, metrics: dict[str, Any]) -> None:
        self.epoch, self.step, self.loss_sum = self.epoch + 1, 0, 0.0
        self.val_loss, self.val_metrics = val_loss, metrics


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's random generators (dropout, augmentation), to resume them exactly."""
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return {"torch": torch.get_rng_state(), "cuda": cuda}


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], device)
