"""Figures of a run, as PNG files in its folder: history.png (train.py), and eval.py's confusion
matrix of the test set.

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


def confusion_matrices(
    matrices: list[np.ndarray], classes: list[list[str]], titles: list[str], path: Path
) -> bool:
    """One panel per matrix: counts[i, j] = samples of true class i predicted as class j."""
    plt = pyplot()
    if plt is None:
        return False
    side = min(max(4.0, 0.45 * max(len(c) for c in classes) + 2), 16)
    figure, panels = plt.subplots(
        1, len(matrices), figsize=(side * len(matrices), side), squeeze=False, layout="constrained"
    )
    for axes, counts, names, title in zip(panels[0], matrices, classes, titles, strict=True):
        counts = np.asarray(counts)
        axes.imshow(counts, cmap="Blues")
        ticks = range(len(names))
        axes.set_xticks(ticks, names, rotation=90 if len(names) > 8 else 0)
        axes.set_yticks(ticks, names)
        axes.set(xlabel="predicted", ylabel="true", title=title)
        if len(names) <= 30:  # beyond that the numbers no longer fit
            for (i, j), count in np.ndenumerate(counts):
                dark = count > counts.max() / 2
                axes.text(j, i, count, ha="center", va="center", color="w" if dark else "k")
    save(plt, figure, path)
    return True


def save(plt: Any, figure: Any, path: Path) -> None:
    figure.savefig(path, dpi=100)
    plt.close(figure)
