"""Every setting of a training run, in one place.

train.py turns each field into a --kebab-case flag (`--batch-size 128`, `--hidden-sizes 64,64`),
so edit the defaults here or override them for one run. Each run saves its resolved settings to
runs/<run-name>/config.json and inside its checkpoints.
"""

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils import UserError


def setting(default: Any, help: str, choices: list[str] | None = None) -> Any:
    """A Config field with the help text (and allowed values) of its command-line flag."""
    metadata = {"help": help, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class Config:
    # Data
    data: str = setting("data/reviews.csv", "CSV (or Parquet) file, one text per row")
    target: list[str] = setting(["tone"], "target column(s)")
    text_column: str = setting("text", "the column holding the texts")
    val_size: float = setting(0.15, "fraction of samples used for validation")
    test_size: float = setting(0.15, "fraction of samples held out for eval.py")
    val_data: str = setting("", "validation data in the format of `data` (default: split it off)")
    test_data: str = setting("", "test data in the format of `data` (default: split it off)")
    strict_data: bool = setting(False, "stop at data problems otherwise skipped with a warning")
    missing_target: list[str] = setting([], "target values that mean missing, besides empty cells")
    encoding: str = setting("auto", "text encoding of CSV files: auto (UTF-8, UTF-16, else cp1252)")
    max_tokens: int = setting(256, "words kept per text (the rest is cut off, with a note)")
    vocab_size: int = setting(30000, "keep the N most frequent training words and word pairs")
    min_count: int = setting(1, "words seen fewer times in training read as unknown")
    ngrams: int = setting(2, "bag model: 2 adds word pairs (bigrams) to the words", [1, 2])

    # Model
    model: str = setting("bag", "architecture", ["bag", "transformer"])
    embedding_dim: int = setting(64, "size of each word's embedding vector")
    layers: int = setting(2, "transformer: encoder layers")
    heads: int = setting(4, "transformer: attention heads (they divide embedding_dim)")
    dropout: float = setting(0.1, "dropout probability")
    label_smoothing: float = setting(0.0, "CrossEntropyLoss label smoothing (0 = off)")

    # Optimization
    optimizer: str = setting("adamw", "optimizer", ["adamw", "adam", "sgd"])
    lr: float = setting(0.001, "learning rate")
    weight_decay: float = setting(0.01, "weight decay")
    momentum: float = setting(0.9, "SGD momentum (Nesterov)")
    scheduler: str = setting(
        "cosine", "learning-rate schedule", ["cosine", "step", "plateau", "none"]
    )
    epochs: int = setting(20, "maximum number of epochs")
    batch_size: int = setting(64, "samples per optimizer step")
    patience: int = setting(5, "stop after N epochs without a lower validation loss (0 = never)")
    plateau_patience: int = setting(2, "--scheduler plateau: lr / 10 after N epochs with no gain")

    # Runtime
    device: str = setting("auto", "auto (cuda, then mps, then cpu), or e.g. cpu, cuda:1, mps")
    amp: bool = setting(True, "mixed precision on CUDA (bfloat16 from Ampere on, else float16)")
    seed: int = setting(42, "seed for the split, initialization, shuffling and dropout")
    runs_dir: str = setting("runs", "each run writes to runs_dir/run_name")
    run_name: str = setting("", "run folder name (default: the start time, e.g. 20250101-120000)")
    log_interval: int = setting(20, "refresh the progress bar's loss every N steps")
    checkpoint_every: int = setting(0, "also save last.pt every N steps (0 = after each epoch)")
    tracker: str = setting(
        "tensorboard", "logger besides metrics.csv", ["tensorboard", "wandb", "mlflow", "none"]
    )

    def __post_init__(self) -> None:
        checks = {
            "epochs must be >= 1": self.epochs >= 1,
            "batch_size must be >= 1": self.batch_size >= 1,
            "lr must be > 0": self.lr > 0,
            "val_size and test_size must be > 0 and sum to less than 1": (
                min(self.val_size, self.test_size) > 0 and self.val_size + self.test_size < 1
            ),
            "dropout must be in [0, 1)": 0 <= self.dropout < 1,
            "patience must be >= 0": self.patience >= 0,
            "plateau_patience must be >= 0": self.plateau_patience >= 0,
            "log_interval must be >= 1": self.log_interval >= 1,
            "checkpoint_every must be >= 0": self.checkpoint_every >= 0,
            "max_tokens must be >= 1": self.max_tokens >= 1,
            "vocab_size must be >= 1": self.vocab_size >= 1,
            "min_count must be >= 1": self.min_count >= 1,
            "embedding_dim must be >= 1": self.embedding_dim >= 1,
            "layers must be >= 1": self.layers >= 1,
            "heads must be >= 1": self.heads >= 1,
            "heads must divide embedding_dim": self.embedding_dim % max(1, self.heads) == 0,
            "label_smoothing must be in [0, 1)": 0 <= self.label_smoothing < 1,
        }
        for f in dataclasses.fields(self):
            if allowed := f.metadata.get("choices"):
                checks[f"{f.name} must be one of {allowed}"] = getattr(self, f.name) in allowed
        if failed := [message for message, ok in checks.items() if not ok]:
            raise UserError("bad setting: " + "; ".join(failed))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        """Build a Config from saved or command-line values; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """Add a --kebab-case flag per Config field. Flags left out stay out of the parsed result,
    so a resumed run keeps its saved settings unless a flag overrides them."""
    defaults = Config()
    for f in dataclasses.fields(Config):
        default = getattr(defaults, f.name)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        kwargs: dict[str, Any] = {
            "default": argparse.SUPPRESS,
            "help": f"{f.metadata['help']} (default: {shown!r})".replace("%", "%%"),
        }
        if f.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(f.type) is list:
            kwargs |= {"type": _list_of(typing.get_args(f.type)[0]), "metavar": "A,B,..."}
        else:
            kwargs |= {"type": f.type, "choices": f.metadata["choices"]}
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)


def _list_of(item_type: type) -> typing.Callable[[str], list]:
    def parse(text: str) -> list:
        return [item_type(part.strip()) for part in text.split(",") if part.strip()]

    parse.__name__ = f"comma-separated {item_type.__name__}"  # shown in argparse errors
    return parse


def run_settings(
    cli: dict[str, Any], saved: dict[str, Any] | None = None, run_dir: Path | None = None
) -> Config:
    """The settings of a run: the defaults above, then a resumed run's saved settings
    (`saved`, from its checkpoint in `run_dir`), then the flags given (`cli`)."""
    if saved is None or run_dir is None:
        return Config.from_dict(cli)
    # The device is chosen afresh (--device, default auto): the run may move machines.
    saved = {**saved, "device": Config.device}
    return Config.from_dict({**saved, **cli, "run_name": run_dir.name})


def parse_args(description: str) -> tuple[dict[str, Any], bool]:
    """train.py's flags: the settings given (only those), and whether to resume."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_config_flags(parser)
    parser.add_argument("--resume", action="store_true", help="continue a run from its last.pt")
    parser.add_argument("--run", type=Path, help="with --resume: runs/NAME (default: the newest)")
    cli = vars(parser.parse_args())
    run, resume = cli.pop("run"), cli.pop("resume")
    if run is not None:
        if not resume:
            parser.error("--run needs --resume (a new run is named with --run-name)")
        if cli.get("run_name") not in (None, run.name):
            parser.error("--run and --run-name name different runs: give one")
        cli |= {"runs_dir": str(run.parent), "run_name": run.name}
    return cli, resume
