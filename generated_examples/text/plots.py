"""Figures of a run, as PNG files in its folder: history.png (train.py), and eval.py's confusion
matrix of the test set.

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


def confusion_matrices(
    matrices: list[np.ndarray], classes: list[list[str]], titles: list[str], path: Path
) -> Path | None:
    """One panel per matrix: counts[i, j] = samples of true class i predicted as class j."""
    side = min(max(4.0, 0.45 * max(len(c) for c in classes) + 2), 16)
    figure = new_figure(figsize=(side * len(matrices), side))
    if figure is None:
        return None
    panels = figure.subplots(1, len(matrices), squeeze=False)
    for axes, counts, names, title in zip(panels[0], matrices, classes, titles, strict=True):
        axes.imshow(counts, cmap="Blues")
        ticks = range(len(names))
        axes.set_xticks(ticks, names, rotation=90 if len(names) > 8 else 0)
        axes.set_yticks(ticks, names)
        axes.set(xlabel="predicted", ylabel="true", title=title)
        if len(names) <= 30:  # beyond that the numbers no longer fit
            for (i, j), count in np.ndenumerate(counts):
                dark = count > counts.max() / 2
                axes.text(j, i, count, ha="center", va="center", color="w" if dark else "k")
    figure.savefig(path, dpi=100)
    return path
