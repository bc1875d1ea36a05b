"""Runs inside a generated project (cwd) and prints one JSON line about it.

    python project_probe.py wiring            # loss, head size, target dtype, activations
    python project_probe.py predictions RUN   # test-split labels, predictions and baseline data
    python project_probe.py validate RUN      # last.pt's validation, redone in one process
    python project_probe.py shares            # metrics from 3 shares of the data vs all of it
    python project_probe.py sampler N WORLD   # each process's share of an epoch

Used by the scaffold test suite; it imports the project's own modules, as its scripts do.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

import task  # noqa: E402
import torch  # noqa: E402
from checkpoints import load_checkpoint  # noqa: E402
from config import Config  # noqa: E402
from data_loader import load_data, make_loader  # noqa: E402
from distributed import Processes  # noqa: E402
from model import build_model, model_kwargs  # noqa: E402
from preprocessing import Preprocessing  # noqa: E402
from torch import nn  # noqa: E402
from utils import collect_logits  # noqa: E402


class Split:
    """A split's tensors, as the probes use them."""

    def __init__(self, dataset) -> None:
        self.x, self.y = dataset.tensors
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.y)

    def inputs(self, batch_size: int):
        return self.x.split(batch_size)


class Data:
    """The project's steps 1-3 for the probes: train/val/test tensors and the targets."""

    def __init__(self, cfg: Config, checkpoint: dict | None = None) -> None:
        splits = load_data(cfg, checkpoint)
        if checkpoint is None:
            self.preprocessing = Preprocessing.fit(splits.train, cfg)
        else:
            self.preprocessing = Preprocessing.from_state_dict(checkpoint["preprocessing"])
        self.targets = self.preprocessing.targets
        for part in ("train", "val", "test"):
            setattr(self, part, Split(self.preprocessing.dataset(getattr(splits, part))))

    def input_args(self) -> dict:
        return self.preprocessing.input_args()


def load_splits(cfg: Config, checkpoint: dict | None = None) -> Data:
    return Data(cfg, checkpoint)


def compute_metrics(y, pred, probs, targets) -> dict:
    return task.metrics_from_state(task.metric_state(y, pred, probs, targets), targets)


ACTIVATIONS = (nn.Softmax, nn.LogSoftmax, nn.Sigmoid, nn.Softmin, nn.Tanh)


def wiring() -> dict:
    cfg = Config()
    data = load_splits(cfg)
    model = build_model(**model_kwargs(cfg, data.input_args(), len(data.targets.names)))
    criterion = task.make_loss(cfg, data.targets, data.train.y)
    model.eval()
    with torch.no_grad():
        out = model(data.train.x[:64])
        # Push the head's bias to 5: raw scores follow it, a sigmoid/softmax would cap them at 1.
        head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        head.bias.fill_(5.0)
        shifted = model(data.train.x[:64])
    return {
        "loss": type(criterion).__name__,
        "head_size": out.shape[1],
        "n_names": len(data.targets.names),
        "target_dtype": str(data.train.y.dtype).removeprefix("torch."),
        "target_shape": list(data.train.y.shape),
        "output_shape": list(out.shape),
        "activation_modules": [
            type(m).__name__ for m in model.modules() if isinstance(m, ACTIVATIONS)
        ],
        "last_layer": type(list(model.modules())[-1]).__name__,
        "shifted_min": shifted.min().item(),
        "row_sums_to_one": bool(
            torch.allclose(out.sum(dim=1), torch.ones(out.shape[0]), atol=1e-3)
        ),
        "main_metric": task.MAIN_METRIC,
        "classes": getattr(data.targets, "classes", None),
    }


def predictions(run_dir: str) -> dict:
    checkpoint = load_checkpoint(Path(run_dir) / "best.pt")
    cfg = Config.from_dict(checkpoint["config"])
    data = load_splits(cfg, checkpoint)
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    logits = collect_logits(model, data.test.inputs(256))
    pred, probs = task.predict(logits, data.targets)
    decode = getattr(data.targets, "decode", lambda y: y)
    return {
        "y_test": decode(data.test.y).tolist(),
        "y_train": decode(data.train.y).tolist(),
        "pred": pred.tolist(),
        "probs": None if probs is None else probs.tolist(),
        "classes": getattr(data.targets, "classes", None),
    }


def validate(run_dir: str) -> dict:
    """Redo last.pt's validation in this one process, with train.py's own evaluate()."""
    import train

    checkpoint = load_checkpoint(Path(run_dir) / "last.pt")
    cfg = Config.from_dict(checkpoint["config"])
    data = load_splits(cfg, checkpoint)
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    criterion = task.make_loss(cfg, data.targets, data.train.y)
    loader = make_loader(data.val.dataset, cfg.batch_size, Processes())
    loss, metrics = train.evaluate(model, loader, criterion, data.targets, Processes())
    return {
        "saved": {"val_loss": checkpoint["val_loss"], "val_metrics": checkpoint["val_metrics"]},
        "redone": {"val_loss": loss, "val_metrics": metrics},
        "module_prefix": any(k.startswith("module.") for k in checkpoint["model"]),
        "samples": len(data.val),
    }


def shares() -> dict:
    """Metrics of the training split computed whole, and from 3 uneven shares combined the way
    processes combine them (sums added, GATHERED entries concatenated)."""
    torch.manual_seed(0)
    cfg = Config()
    data = load_splits(cfg)
    model = build_model(**model_kwargs(cfg, data.input_args(), len(data.targets.names)))
    logits = collect_logits(model, data.train.inputs(256)) + torch.randn(len(data.train), 1)
    pred, probs = task.predict(logits, data.targets)
    whole = compute_metrics(data.train.y, pred, probs, data.targets)
    states = []
    for index in (
        torch.arange(0, 10),
        torch.arange(10, len(pred), 2),
        torch.arange(11, len(pred), 2),
    ):
        part_probs = None if probs is None else probs[index]
        states.append(task.metric_state(data.train.y[index], pred[index], part_probs, data.targets))
    combined = {
        key: (
            torch.cat([s[key] for s in states])
            if key in task.GATHERED
            else sum(s[key] for s in states)
        )
        for key in states[0]
    }
    return {"whole": whole, "combined": task.metrics_from_state(combined, data.targets)}


def sampler(n: str, world: str) -> dict:
    from data_files import EpochLoader
    from distributed import Processes
    from torch.utils.data import DistributedSampler

    n_, w = int(n), int(world)
    ours = []
    for rank in range(w):
        loader = EpochLoader(n_, 1, Processes(rank=rank, world=w), shuffle=True, seed=42)
        loader.set_epoch(3)
        ours.append(loader.order())
    theirs = []
    for rank in range(w):
        reference = DistributedSampler(range(n_), num_replicas=w, rank=rank, shuffle=True, seed=42)
        reference.set_epoch(3)
        theirs.append(list(reference))
    plain = torch.randperm(n_, generator=torch.Generator().manual_seed(42 + 3)).tolist()
    return {"ours": ours, "theirs": theirs, "plain": plain}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    commands = {
        "wiring": wiring,
        "predictions": predictions,
        "validate": validate,
        "shares": shares,
        "sampler": sampler,
    }
    print(json.dumps(commands[command](*args)))
