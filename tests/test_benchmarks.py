"""Every benchmark still runs: each in its seconds-long smoke mode (tiny sizes), so none can rot
when the template changes. Their figures come from full runs (README, "Speed and benchmarks")."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

BENCHMARKS = {
    "loop_speed.py": ["summary", "x floor"],
    "time_to_accuracy.py": ["multiclass", "accuracy"],
    "csv_load.py": ["steps 1-3:", "peak memory:"],
    "ddp_speed.py": ["MLP, 2,000 rows", "CNN, 300 16x16 images"],
    "tabular_accuracy.py": ["breast_cancer", "data sets reach the better of"],
    "text_accuracy.py": ["reviews   binary", "reach the better TF-IDF baseline"],
    "doctor_corpus.py": ["precision", "generated examples: 0 findings"],
}


def test_every_benchmark_is_covered() -> None:
    assert {p.name for p in (REPO / "benchmarks").glob("*.py")} == set(BENCHMARKS)


# The four that start many processes (torchrun; a project's train/eval and baselines) run with
# the slow set, in CI (.ci/run); the others with every `pytest -n 2`.
SLOW = {"ddp_speed.py", "time_to_accuracy.py", "tabular_accuracy.py", "text_accuracy.py"}


@pytest.mark.parametrize(
    "script", [pytest.param(s, marks=pytest.mark.slow) if s in SLOW else s for s in BENCHMARKS]
)
def test_a_benchmark_runs_in_smoke_mode(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for words in BENCHMARKS[script]:
        assert words in result.stdout, (words, result.stdout)
