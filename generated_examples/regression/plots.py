"""Figures of a run, as PNG files in its folder: history.png (train.py), and eval.py's scatter of
predicted against true values on the test set.

matplotlib comes with the project's install; where it is missing each function prints a
one-line note, draws nothing and returns False.
"""

from pathlib import Path
from typing import Any

import numpy as np


def pyplot() -> Any | None:
    """matplotlib.pyplot drawing into files (no window: works on servers), or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed, so no plots (pip install matplotlib)")
        return None
    return plt


def history(rows: list[dict[str, float]], main_metric: str, run_dir: Path) -> bool:
    """history.png: the train and validation loss, and the validation main metric, per epoch
    (the rows of metrics.csv)."""
    plt = pyplot()
    if plt is None or not rows:
        return False
    epochs = [row["epoch"] for row in rows]
    figure, (loss, metric) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    loss.plot(epochs, [row["train_loss"] for row in rows], marker=".", label="train")
    loss.plot(epochs, [row["val_loss"] for row in rows], marker=".", label="validation")
    loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss.legend()
    metric.plot(epochs, [row[f"val_{main_metric}"] for row in rows], marker=".", color="C2")
    metric.set(xlabel="epoch", ylabel=main_metric, title=f"Validation {main_metric}")
    for axes in (loss, metric):
        axes.grid(alpha=0.3)
    save(plt, figure, run_dir / "history.png")
    return True


def predicted_vs_true(true: np.ndarray, pred: np.ndarray, names: list[str], path: Path) -> bool:
    """One scatter panel per target column (N, T): a perfect model puts every point on the
    dashed diagonal."""
    plt = pyplot()
    if plt is None:
        return False
    figure, panels = plt.subplots(
        1, len(names), figsize=(4.5 * len(names), 4.5), squeeze=False, layout="constrained"
    )
    for i, (axes, name) in enumerate(zip(panels[0], names, strict=True)):
        axes.scatter(true[:, i], pred[:, i], s=12, alpha=0.6)
        both = np.concatenate([true[:, i], pred[:, i]])
        low, high = both.min(), both.max()
        axes.plot([low, high], [low, high], "k--", linewidth=1)
        axes.set(xlabel=f"true {name}", ylabel=f"predicted {name}", title=name)
        axes.grid(alpha=0.3)
    save(plt, figure, path)
    return True


def save(plt: Any, figure: Any, path: Path) -> None:
    figure.savefig(path, dpi=100)
    plt.close(figure)
