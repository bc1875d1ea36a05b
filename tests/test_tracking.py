"""What a run records: metrics.csv, config.json, history.png, eval.py's figure and the optional
experiment trackers (TensorBoard, W&B offline, MLflow), each with its package missing too."""

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TASKS, run_script

COMMON_COLUMNS = ["epoch", "train_loss", "val_loss"]
METRIC_COLUMNS = {
    "regression": ["val_mae", "val_rmse", "val_r2"],
    "binary": ["val_accuracy", "val_precision", "val_recall", "val_f1", "val_roc_auc"],
    "multiclass": ["val_accuracy", "val_macro_precision", "val_macro_recall", "val_macro_f1"],
    "multilabel": ["val_subset_accuracy", "val_micro_f1", "val_macro_f1"],
}
FIGURE = {"regression": "predicted_vs_true.png"}


def answers(task: str) -> dict[str, str]:
    return {"task": task} if task == "image" else {"task": task, "input": "tabular"}


def assert_png(path: Path, min_size: tuple[int, int] = (300, 300)) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()  # the whole file decodes
    with Image.open(path) as image:
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        assert len(np.unique(np.asarray(image.convert("L")))) > 10  # something was drawn


def blocked(tmp_path: Path, *packages: str) -> dict[str, str | None]:
    """An environment in which `import PACKAGE` fails, as when it is not installed."""
    for name in packages:
        folder = tmp_path / "blocked" / name
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(f"raise ImportError('no module named {name}')\n")
    return {"PYTHONPATH": str(tmp_path / "blocked")}


@pytest.mark.parametrize("task", [*TASKS, "image"])
def test_a_run_writes_its_csv_config_and_figures(project, task) -> None:
    root = project(**answers(task))
    flags = ["--epochs", "3", "--patience", "0", "--device", "cpu", "--tracker", "none"]
    result = run_script(root, "train.py", *flags, "--run-name", "r")
    run = root / "runs/r"
    assert "history.png" in result.stdout

    with (run / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    problem = "multiclass" if task == "image" else task
    assert list(rows[0]) == [*COMMON_COLUMNS, *METRIC_COLUMNS[problem], "lr", "seconds"]
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    for row in rows:
        assert float(row["seconds"]) > 0 and float(row["lr"]) > 0
        assert float(row["train_loss"]) > 0 and float(row["val_loss"]) > 0

    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 3 and config["run_name"] == "r" and config["tracker"] == "none"
    assert_png(run / "history.png", (800, 300))

    result = run_script(root, "eval.py", "--run", str(run), "--device", "cpu")
    figure = run / FIGURE.get(problem, "confusion_matrix.png")
    assert f"wrote {figure}" in result.stdout
    assert_png(figure)


def test_without_matplotlib_one_note_and_no_crash(project, tmp_path) -> None:
    root = project(task="multiclass", input="tabular")
    env = blocked(tmp_path, "matplotlib")
    flags = ["--epochs", "2", "--device", "cpu", "--tracker", "none", "--run-name", "r"]
    trained = run_script(root, "train.py", *flags, env=env, check=False)
    tested = run_script(root, "eval.py", "--run", "runs/r", "--device", "cpu", env=env, check=False)
    note = "note: matplotlib is not installed, so no plots (pip install matplotlib)"
    for result in (trained, tested):
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(note) == 1 and "Traceback" not in result.stderr
    assert (root / "runs/r/test_metrics.json").is_file()
    assert not list((root / "runs/r").glob("*.png"))


def test_tensorboard_logs_every_epoch(project) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root = project(task="binary", input="tabular")
    flags = ["--epochs", "3", "--patience", "0", "--device", "cpu", "--tracker", "tensorboard"]
    run_script(root, "train.py", *flags, "--run-name", "r")
    events = EventAccumulator(str(root / "runs/r/tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(tags)
    assert [e.step for e in events.Scalars("val_loss")] == [1, 2, 3]
    logged = [e.value for e in events.Scalars("val_loss")]
    with (root / "runs/r/metrics.csv").open(newline="") as f:
        expected = [float(row["val_loss"]) for row in csv.DictReader(f)]
    assert logged == pytest.approx(expected, rel=1e-6)


def test_wandb_runs_offline(project) -> None:
    pytest.importorskip("wandb")
    root = project(task="multiclass", input="tabular")
    # No WANDB_MODE: the project's default (offline). An unreachable server, to be sure.
    env = {"WANDB_MODE": None, "WANDB_API_KEY": None, "WANDB_BASE_URL": "http://127.0.0.1:9"}
    flags = ["--epochs", "2", "--device", "cpu", "--tracker", "wandb", "--run-name", "r"]
    result = run_script(root, "train.py", *flags, env=env, check=False, fresh=True)
    assert result.returncode == 0, result.stderr
    offline = list((root / "runs/r/wandb").glob("offline-run-*"))
    assert len(offline) == 1
    (log,) = offline[0].glob("run-*.wandb")  # what `wandb sync` uploads later
    records = log.read_bytes()
    assert records.count(b"val_accuracy") >= 2 and records.count(b"train_loss") >= 2


def test_mlflow_logs_to_a_local_store_and_resume_continues_the_run(project) -> None:
    pytest.importorskip("mlflow")
    root = project(task="regression", input="tabular")
    flags = ["--device", "cpu", "--tracker", "mlflow", "--patience", "0", "--run-name", "r"]
    env = {"MLFLOW_TRACKING_URI": None}  # the project's default: runs/mlflow.db
    first = run_script(root, "train.py", "--epochs", "2", *flags, env=env, check=False, fresh=True)
    assert first.returncode == 0, first.stderr
    resumed = run_script(
        root, "train.py", "--epochs", "3", *flags, "--resume", env=env, check=False, fresh=True
    )
    assert resumed.returncode == 0, resumed.stderr
    run_id = (root / "runs/r/mlflow_run_id.txt").read_text().strip()
    with sqlite3.connect(root / "runs/mlflow.db") as db:
        steps = db.execute(
            "SELECT step FROM metrics WHERE run_uuid = ? AND key = 'val_r2' ORDER BY step",
            (run_id,),
        ).fetchall()
        runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)))
    assert [s for (s,) in steps] == [1, 2, 3] and runs == 1
    assert params["epochs"] == "2" and params["loss"] == "mse"


@pytest.mark.parametrize("tracker", ["wandb", "mlflow"])
def test_a_chosen_tracker_that_is_not_installed_is_one_error_line(
    project, tmp_path, tracker
) -> None:
    root = project(task="multiclass", input="tabular")
    env = blocked(tmp_path, tracker)
    result = run_script(root, "train.py", "--tracker", tracker, env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: --tracker {tracker} needs the {tracker} package: pip install {tracker} "
        "(or pass --tracker none)"
    )
    assert not (root / "runs").exists()


def test_tensorboard_not_installed_is_a_note_and_the_run_goes_on(project, tmp_path) -> None:
    root = project(task="multiclass", input="tabular")
    env = blocked(tmp_path, "tensorboard")
    result = run_script(
        root, "train.py", "--epochs", "1", "--tracker", "tensorboard", env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "note: tensorboard is not installed, so no TensorBoard logs" in result.stdout
    (run,) = (root / "runs").iterdir()
    assert (run / "metrics.csv").is_file() and not (run / "tensorboard").exists()
