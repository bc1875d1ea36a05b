"""Regression: how targets, loss, predictions and metrics fit together.

    head size   one output per target column
    loss        MSELoss (or L1Loss / HuberLoss, --loss) on the raw outputs
    target      float32, standardized with the training split's mean and std, shape (N, T)
    activation  none; predictions are un-standardized back to the target's units
    metrics     MAE, RMSE, R2, on the original scale (averaged over target columns)

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

MAIN_METRIC = "r2"  # higher is better; printed every epoch
STRATIFY = False  # splits are random, not stratified


class Targets:
    """Numeric target columns, standardized for training; `decode` undoes the scaling."""

    def __init__(self, columns: list[str], mean: list[float], std: list[float]) -> None:
        self.columns, self.mean, self.std = columns, mean, std
        self.names = columns  # one model output per name

    @classmethod
    def fit(cls, frame: pd.DataFrame, cfg: Config) -> "Targets":
        values = cls._numeric(frame)
        mean, std = values.mean(axis=0), values.std(axis=0)
        return cls(list(frame.columns), mean.tolist(), np.where(std > 0, std, 1.0).tolist())

    @staticmethod
    def _numeric(frame: pd.DataFrame) -> np.ndarray:
        for column in frame.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            bad = numbers.isna() | ~np.isfinite(numbers)
            if bad.any():
                row = bad.idxmax()
                value = frame[column].astype(object)[row]  # a plain value: 'NA', inf, ...
                missing = f"; if it means missing, pass --missing-target {value}"
                raise UserError(
                    f"target '{column}' line {row}: {value!r} is not a finite number"
                    + (missing if isinstance(value, str) else "")
                )
        return frame.to_numpy(dtype=np.float64)

    def encode(self, frame: pd.DataFrame) -> torch.Tensor:
        scaled = (self._numeric(frame[self.columns]) - self.mean) / self.std
        return torch.tensor(scaled, dtype=torch.float32)  # (N, T)

    def decode(self, scaled: torch.Tensor) -> torch.Tensor:
        return scaled.float().cpu() * torch.tensor(self.std) + torch.tensor(self.mean)

    def state_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "Targets":
        return cls(state["columns"], state["mean"], state["std"])


def make_loss(cfg: Config, targets: Targets, y_train: torch.Tensor) -> nn.Module:
    return {"mse": nn.MSELoss, "l1": nn.L1Loss, "huber": nn.HuberLoss}[cfg.loss]()


def predict(logits: torch.Tensor, targets: Targets) -> tuple[torch.Tensor, None]:
    """Outputs (N, T) -> predictions (N, T) in the target's original units."""
    return targets.decode(logits), None


# Under torchrun each process scores its share of the samples: metric_state() reduces them to
# sums that add up across processes, and metrics_from_state() turns the totals into metrics.
GATHERED: tuple[str, ...] = ()  # no per-sample state: everything is summed


def metric_state(
    y: torch.Tensor, pred: torch.Tensor, probs: None, targets: Targets
) -> dict[str, torch.Tensor]:
    error = pred.double() - targets.decode(y).double()  # original units, (N, T)
    scaled = y.cpu().double()  # standardized, so sums of squares lose no precision
    return {
        "count": torch.tensor(float(len(y)), dtype=torch.float64),
        "abs_error": error.abs().sum(dim=0),  # per target
        "squared_error": error.square().sum(dim=0),
        "scaled_sum": scaled.sum(dim=0),
        "scaled_squares": scaled.square().sum(dim=0),
    }


def metrics_from_state(state: dict[str, torch.Tensor], targets: Targets) -> dict[str, Any]:
    n = state["count"].item()
    ss_res = state["squared_error"].numpy()
    scaled_sum, scaled_squares = state["scaled_sum"].numpy(), state["scaled_squares"].numpy()
    ss_tot = (scaled_squares - scaled_sum**2 / n) * np.square(targets.std)
    # A constant target has no variance to explain: R2 is 1 if predicted exactly, else 0.
    varies = ss_tot > 1e-12 * np.maximum(scaled_squares, 1) * np.square(targets.std)
    r2 = np.where(varies, 1 - ss_res / np.where(varies, ss_tot, 1), (ss_res == 0) * 1.0)
    return {
        "mae": float(state["abs_error"].sum() / (n * len(ss_res))),
        "rmse": float(np.sqrt(ss_res / n).mean()),
        "r2": float(r2.mean()),
    }


def to_frame(pred: torch.Tensor, probs: None, targets: Targets) -> pd.DataFrame:
    """Predictions as a table: one `predicted_<target>` column per target."""
    return pd.DataFrame(pred.numpy(), columns=[f"predicted_{c}" for c in targets.columns])


def report(metrics: dict[str, Any], targets: Targets) -> str:
    return format_metrics(metrics)


def plot_test(
    y: torch.Tensor, pred: torch.Tensor, metrics: dict[str, Any], targets: Targets, run_dir: Path
) -> Path | None:
    """eval.py's figure: predicted against true values on the test set, one panel per target
    (None without matplotlib)."""
    true, path = targets.decode(y).numpy(), run_dir / "predicted_vs_true.png"
    return plots.predicted_vs_true(true, pred.numpy(), targets.columns, path)
