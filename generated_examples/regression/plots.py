"""Figures of a run, as PNG files in its folder: history.png (train.py), and eval.py's scatter of
predicted against true values on the test set.

Each returns the file it wrote (no window opens: works on servers), or None and a one-line
note without matplotlib.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def new_figure(**options: Any) -> Any | None:
    """A matplotlib Figure (None, with a note, without matplotlib)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("note: matplotlib is not installed, so no plots (pip install matplotlib)")
        return None
    return Figure(layout="constrained", **options)


def history(run_dir: Path, main_metric: str) -> Path | None:
    """history.png: the train and validation loss, and the validation main metric, per epoch
    (from the run's metrics.csv)."""
    figure = new_figure(figsize=(10, 4))
    if figure is None:
        return None
    log = pd.read_csv(run_dir / "metrics.csv")
    loss, metric = figure.subplots(1, 2)
    loss.plot(log["epoch"], log["train_loss"], marker=".", label="train")
    loss.plot(log["epoch"], log["val_loss"], marker=".", label="validation")
    loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss.legend()
    metric.plot(log["epoch"], log[f"val_{main_metric}"], marker=".", color="C2")
    metric.set(xlabel="epoch", ylabel=main_metric, title=f"Validation {main_metric}")
    for axes in (loss, metric):
        axes.grid(alpha=0.3)
    figure.savefig(run_dir / "history.png", dpi=100)
    return run_dir / "history.png"


def predicted_vs_true(
    true: np.ndarray, pred: np.ndarray, names: list[str], path: Path
) -> Path | None:
    """One scatter panel per target column (N, T): a perfect model puts every point on the
    dashed diagonal."""
    figure = new_figure(figsize=(4.5 * len(names), 4.5))
    if figure is None:
        return None
    panels = figure.subplots(1, len(names), squeeze=False)
    for i, (axes, name) in enumerate(zip(panels[0], names, strict=True)):
        axes.scatter(true[:, i], pred[:, i], s=12, alpha=0.6)
        both = np.concatenate([true[:, i], pred[:, i]])
        low, high = both.min(), both.max()
        axes.plot([low, high], [low, high], "k--", linewidth=1)
        axes.set(xlabel=f"true {name}", ylabel=f"predicted {name}", title=name)
        axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100)
    return path
