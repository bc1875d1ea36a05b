"""Binary classification: how targets, loss, predictions and metrics fit together.

    head size   1 (one logit: the positive class)
    loss        BCEWithLogitsLoss on the raw logit (it applies the sigmoid itself, stably)
    target      float32 0/1, shape (N, 1); the positive class is the second class name
    activation  sigmoid, only when predicting
    prediction  probability > threshold (--threshold, default 0.5)
    metrics     accuracy, precision, recall, F1, ROC-AUC, confusion matrix

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
STRATIFY = True  # keep the class balance equal across train/val/test


class Targets:
    """One label column with exactly two classes; classes[1] is the positive class."""

    def __init__(self, labels: ClassLabels, threshold: float) -> None:
        self.labels, self.threshold = labels, threshold
        self.classes = labels.classes
        self.names = [labels.classes[1]]  # the single output is the positive-class logit

    @classmethod
    def fit(cls, frame: pd.DataFrame, cfg: Config) -> "Targets":
        if frame.shape[1] != 1:
            raise UserError(f"binary classification needs one target column, got {list(frame)}")
        labels = ClassLabels.fit(frame.columns[0], frame.iloc[:, 0].tolist(), cfg.strict_data)
        if len(labels.classes) != 2:
            raise UserError(
                f"target '{labels.column}' has {len(labels.classes)} class(es) "
                f"{labels.classes[:10]}; binary classification needs exactly 2"
            )
        return cls(labels, cfg.threshold)

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        index = self.labels.encode(frame[self.labels.column].tolist())
        return index.float().unsqueeze(1)  # (N, 1): 1.0 = positive class

    def state_dict(self) -> dict[str, Any]:
        return {**self.labels.state_dict(), "threshold": self.threshold}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Targets":
        return cls(ClassLabels(state["column"], state["classes"]), state["threshold"])


def make_loss(cfg: Config, targets: Targets, y_train: torch.Tensor) -> nn.Module:
    if not cfg.balance:
        return nn.BCEWithLogitsLoss()
    positives = y_train.sum()
    pos_weight = (len(y_train) - positives) / positives.clamp(min=1)
    return nn.BCEWithLogitsLoss(pos_weight=pos_weight.reshape(1))


def predict(logits: torch.Tensor, targets: Targets) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, 1) -> class index (N,) and positive-class probability (N,)."""
    probs = torch.sigmoid(logits.float().squeeze(1)).cpu()
    return (probs > targets.threshold).long(), probs


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None  # undefined with one class
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# Under torchrun each process scores its share of the samples: metric_state() reduces them to
# counts that add up across processes, and metrics_from_state() turns the totals into metrics.
# ROC-AUC ranks every score against every other, so the scores are gathered, not summed.
GATHERED: tuple[str, ...] = ("labels", "scores")


def metric_state(
    y: torch.Tensor, pred: torch.Tensor, probs: torch.Tensor, targets: Targets
) -> dict[str, torch.Tensor]:
    labels = y.squeeze(1).long().cpu()
    counts = confusion_matrix(labels.numpy(), pred.numpy(), 2)
    return {
        "confusion_matrix": torch.from_numpy(counts),
        "labels": labels,
        "scores": probs.double(),
    }


def metrics_from_state(state: dict[str, torch.Tensor], targets: Targets) -> dict[str, Any]:
    counts = state["confusion_matrix"].cpu().numpy()
    (_, fp), (fn, tp) = counts
    precision, recall = safe_div(tp, tp + fp), safe_div(tp, tp + fn)
    return {
        "accuracy": float(np.trace(counts) / counts.sum()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(safe_div(2 * tp, 2 * tp + fp + fn)),
        "roc_auc": roc_auc(state["labels"].numpy(), state["scores"].numpy()),
        "confusion_matrix": counts.tolist(),
    }


def to_frame(pred: torch.Tensor, probs: torch.Tensor, targets: Targets) -> pd.DataFrame:
    """Predictions as a table: the class name and the positive-class probability."""
    names = [targets.classes[i] for i in pred.tolist()]
    return pd.DataFrame({"prediction": names, f"probability_{targets.classes[1]}": probs.numpy()})


def report(metrics: dict[str, Any], targets: Targets) -> str:
    return (
        f"{format_metrics(metrics)}\n(positive class: {targets.classes[1]})\n\n"
        f"confusion matrix (rows: true class)\n"
        f"{confusion_text(metrics['confusion_matrix'], targets.classes)}"
    )


def plot_test(
    y: torch.Tensor, pred: torch.Tensor, metrics: dict[str, Any], targets: Targets, run_dir: Path
) -> Path | None:
    """eval.py's figure: the test confusion matrix (None without matplotlib)."""
    counts = np.array(metrics["confusion_matrix"])
    path = run_dir / "confusion_matrix.png"
    return plots.confusion_matrices([counts], [targets.classes], ["Test set"], path)
