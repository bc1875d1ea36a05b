"""Multiclass classification: how targets, loss, predictions and metrics fit together.

    head size   one logit per class
    loss        CrossEntropyLoss on the raw logits (it applies log-softmax itself)
    target      int64 class index, shape (N,)
    activation  softmax, only when predicting
    prediction  argmax
    metrics     accuracy, macro precision / recall / F1, confusion matrix

Everything task-specific in this project lives in this file.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

import plots
from config import Config
from utils import ClassLabels, UserError, confusion_matrix, confusion_text, format_metrics, safe_div

MAIN_METRIC = "accuracy"  # higher is better; printed every epoch
STRATIFY = True  # keep the class proportions equal across train/val/test


class Targets:
    """One label column with two or more classes."""

    def __init__(self, labels: ClassLabels) -> None:
        self.labels = labels
        self.classes = self.names = labels.classes  # one logit per class

    @classmethod
    def fit(cls, frame: pd.DataFrame, cfg: Config) -> "Targets":
        if frame.shape[1] != 1:
            raise UserError(f"multiclass classification needs one target column, got {list(frame)}")
        labels = ClassLabels.fit(frame.columns[0], frame.iloc[:, 0].tolist(), cfg.strict_data)
        if len(labels.classes) < 2:
            raise UserError(
                f"target '{labels.column}' has a single class {labels.classes}; "
                "a classifier needs at least 2"
            )
        return cls(labels)

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        return self.labels.encode(frame[self.labels.column].tolist())  # (N,) int64

    def state_dict(self) -> dict[str, Any]:
        return self.labels.state_dict()

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Targets":
        return cls(ClassLabels(state["column"], state["classes"]))


def make_loss(cfg: Config, targets: Targets, y_train: torch.Tensor) -> nn.Module:
    return nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)


def predict(logits: torch.Tensor, targets: Targets) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, C) -> class index (N,) and class probabilities (N, C)."""
    probs = torch.softmax(logits.float(), dim=1).cpu()
    return probs.argmax(dim=1), probs


# Under torchrun each process scores its share of the samples: metric_state() reduces them to
# counts that add up across processes, and metrics_from_state() turns the totals into metrics.
GATHERED: tuple[str, ...] = ()  # no per-sample state: everything is summed


def metric_state(
    y: torch.Tensor, pred: torch.Tensor, probs: torch.Tensor, targets: Targets
) -> dict[str, torch.Tensor]:
    counts = confusion_matrix(y.cpu().numpy(), pred.numpy(), len(targets.classes))
    return {"confusion_matrix": torch.from_numpy(counts)}


def metrics_from_state(state: dict[str, torch.Tensor], targets: Targets) -> dict[str, Any]:
    counts = state["confusion_matrix"].cpu().numpy()
    tp = np.diag(counts)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    # Macro averages over the classes that occur in the labels or the predictions.
    seen = (predicted + actual) > 0
    return {
        "accuracy": float(tp.sum() / counts.sum()),
        "macro_precision": float(safe_div(tp, predicted)[seen].mean()),
        "macro_recall": float(safe_div(tp, actual)[seen].mean()),
        "macro_f1": float(safe_div(2 * tp, predicted + actual)[seen].mean()),
        "confusion_matrix": counts.tolist(),
    }


def to_frame(pred: torch.Tensor, probs: torch.Tensor, targets: Targets) -> pd.DataFrame:
    """Predictions as a table: the class name, then one probability column per class."""
    frame = pd.DataFrame(probs.numpy(), columns=[f"probability_{c}" for c in targets.classes])
    frame.insert(0, "prediction", [targets.classes[i] for i in pred.tolist()])
    return frame


def report(metrics: dict[str, Any], targets: Targets) -> str:
    return (
        f"{format_metrics(metrics)}\n\nconfusion matrix (rows: true class)\n"
        f"{confusion_text(metrics['confusion_matrix'], targets.classes)}"
    )


def plot_test(
    y: torch.Tensor, pred: torch.Tensor, metrics: dict[str, Any], targets: Targets, run_dir: Path
) -> Path | None:
    """eval.py's figure: the test confusion matrix (None without matplotlib)."""
    counts = np.array(metrics["confusion_matrix"])
    path = run_dir / "confusion_matrix.png"
    return plots.confusion_matrices([counts], [targets.classes], ["Test set"], path)
