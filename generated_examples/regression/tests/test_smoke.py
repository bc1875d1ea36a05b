"""Smoke tests: train on the sample data, resume, evaluate and predict, as a user would, and
train under torchrun with two CPU processes.
Run them with `pytest -q`.
"""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from config import Config

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    """Run one of the project's scripts on the CPU; fail with its stderr if it fails."""
    command = [sys.executable, *args, "--device", "cpu"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short training run, shared by the tests below (they run in file order)."""
    runs = tmp_path_factory.mktemp("runs")
    run("train.py", "--epochs", "1", "--runs-dir", str(runs), "--run-name", "smoke")
    return runs / "smoke"


def test_train_writes_a_run(run_dir: Path) -> None:
    for name in ("config.json", "metrics.csv", "last.pt", "best.pt"):
        assert (run_dir / name).is_file()
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 1
    assert (run_dir / "history.png").read_bytes().startswith(b"\x89PNG")


def test_torchrun_two_cpu_processes(tmp_path: Path) -> None:
    """The same train.py under torchrun (DistributedDataParallel, gloo); the checkpoint it
    writes loads in one process."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command = [*torchrun, "--nproc_per_node", "2"]
    flags = ["--epochs", "1", "--device", "cpu", "--runs-dir", str(tmp_path), "--run-name", "ddp"]
    result = subprocess.run(
        [*command, "train.py", *flags], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    assert "x 2 processes" in result.stdout
    run("eval.py", "--run", str(tmp_path / "ddp"))


def test_resume_continues_the_run(run_dir: Path) -> None:
    run("train.py", "--resume", "--run", str(run_dir), "--epochs", "2")
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 2
    assert pd.read_csv(run_dir / "metrics.csv")["epoch"].tolist() == [1, 2]


def test_eval_writes_test_metrics(run_dir: Path) -> None:
    run("eval.py", "--run", str(run_dir))
    metrics = json.loads((run_dir / "test_metrics.json").read_text())
    assert 0 <= metrics["r2"] <= 1


def test_predict_writes_one_row_per_sample(run_dir: Path, tmp_path: Path) -> None:
    data, out = Config().data, tmp_path / "predictions.csv"
    run("predict.py", "--input", data, "--run", str(run_dir), "--output", str(out))
    assert len(pd.read_csv(out)) == len(pd.read_csv(data))


def test_eval_compares_with_the_baselines(run_dir: Path) -> None:
    pytest.importorskip("sklearn")  # pip install ".[baseline]"
    command = [sys.executable, "baseline.py", "--run", str(run_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "verdict: " in run("eval.py", "--run", str(run_dir))


def test_scaffold_doctor_finds_no_loop_mistake() -> None:
    """`scaffold doctor .` (CI runs it too): no classic training-loop mistake in the project."""
    doctor = pytest.importorskip("scaffold.doctor")  # pip install pytorch-scaffold
    findings, problems = doctor.check_paths([ROOT])
    assert not problems and not findings, [f.text() for f in findings] + problems
