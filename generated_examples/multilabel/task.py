"""Multilabel classification: how targets, loss, predictions and metrics fit together.

    head size   one logit per label
    loss        BCEWithLogitsLoss on the raw logits (one sigmoid per label, applied inside)
    target      float32 multi-hot, shape (N, L): one 0/1 column per label
    activation  sigmoid per label, only when predicting
    prediction  probability > threshold (--threshold, default 0.5), per label
    metrics     subset accuracy (all labels right), micro F1, macro F1

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
from utils import UserError, format_metrics

MAIN_METRIC = "micro_f1"  # higher is better; printed every epoch
STRATIFY = False  # splits are random, not stratified
LISTS = (  # the common other way to write labels
    "; multilabel targets are one 0/1 column per label: turn a column of label lists such as "
    "'a|b' into such columns first (pandas: df['tags'].str.get_dummies('|'))"
)


class Targets:
    """Several 0/1 label columns; a sample may have any number of labels."""

    def __init__(self, columns: list[str], threshold: float) -> None:
        self.columns, self.threshold = columns, threshold
        self.names = columns  # one logit per label

    @classmethod
    def fit(cls, frame: pd.DataFrame, cfg: Config) -> "Targets":
        targets = cls(list(frame.columns), cfg.threshold)
        targets.encode(frame)  # checks every value is 0 or 1
        return targets

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        for column in self.columns:
            values = frame[column]
            bad = ~values.isin([0, 1, True, False])
            if bad.any():
                row = bad.idxmax()
                value = values.astype(object)[row]  # a plain value: 2, 'a|b', ...
                hint = LISTS if isinstance(value, str) else ""
                raise UserError(f"label '{column}' line {row}: {value!r} is not 0 or 1{hint}")
        return torch.tensor(frame[self.columns].to_numpy(dtype=np.float32))  # (N, L)

    def state_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "threshold": self.threshold}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Targets":
        return cls(state["columns"], state["threshold"])


def make_loss(cfg: Config, targets: Targets, y_train: torch.Tensor) -> nn.Module:
    return nn.BCEWithLogitsLoss()


def predict(logits: torch.Tensor, targets: Targets) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, L) -> 0/1 per label (N, L) and label probabilities (N, L)."""
    probs = torch.sigmoid(logits.float()).cpu()
    return (probs > targets.threshold).long(), probs


def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """2TP / (2TP + FP + FN), and 0 where a label is neither present nor predicted."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)


# Under torchrun each process scores its share of the samples: metric_state() reduces them to
# counts that add up across processes, and metrics_from_state() turns the totals into metrics.
GATHERED: tuple[str, ...] = ()  # no per-sample state: everything is summed


def metric_state(
    y: torch.Tensor, pred: torch.Tensor, probs: torch.Tensor, targets: Targets
) -> dict[str, torch.Tensor]:
    y_true, y_pred = y.cpu().bool(), pred.cpu().bool()
    return {
        "tp": (y_true & y_pred).sum(dim=0).double(),  # per label
        "fp": (~y_true & y_pred).sum(dim=0).double(),
        "fn": (y_true & ~y_pred).sum(dim=0).double(),
        "all_right": (y_true == y_pred).all(dim=1).sum().double(),  # samples with every label
        "count": torch.tensor(float(len(y_true)), dtype=torch.float64),
    }


def metrics_from_state(state: dict[str, torch.Tensor], targets: Targets) -> dict[str, Any]:
    tp, fp, fn = (state[k].cpu().numpy() for k in ("tp", "fp", "fn"))
    per_label = f1(tp, fp, fn)
    return {
        "subset_accuracy": float(state["all_right"] / state["count"]),
        "micro_f1": float(f1(tp.sum(), fp.sum(), fn.sum())),
        "macro_f1": float(per_label.mean()),
        "f1_per_label": dict(zip(targets.columns, per_label.tolist(), strict=True)),
    }


def to_frame(pred: torch.Tensor, probs: torch.Tensor, targets: Targets) -> pd.DataFrame:
    """Predictions as a table: the predicted labels joined by '|', then one probability
    column per label."""
    names = targets.columns
    labels = ["|".join(c for c, on in zip(names, row, strict=True) if on) for row in pred.tolist()]
    frame = pd.DataFrame(probs.numpy(), columns=[f"probability_{c}" for c in names])
    frame.insert(0, "labels", labels)
    return frame


def report(metrics: dict[str, Any], targets: Targets) -> str:
    per_label = "\n".join(f"  {k}  {v:.4f}" for k, v in metrics["f1_per_label"].items())
    return f"{format_metrics(metrics)}\nF1 per label\n{per_label}"


def plot_test(
    y: torch.Tensor, pred: torch.Tensor, metrics: dict[str, Any], targets: Targets, run_dir: Path
) -> Path | None:
    """eval.py's figure: a 2 x 2 test confusion matrix per label (None without matplotlib)."""
    pairs = y.cpu().long().numpy() * 2 + pred.long().numpy()  # (N, L): 2 * true + predicted
    matrices = [np.bincount(label, minlength=4).reshape(2, 2) for label in pairs.T]
    no_yes, path = [["no", "yes"]] * len(matrices), run_dir / "confusion_matrix.png"
    return plots.confusion_matrices(matrices, no_yes, targets.columns, path)
