"""Tabular projects against gradient boosting (issue 16): robust scaling with smooth clipping and
piecewise-linear numeric embeddings, each one setting away from the classic MLP; baseline.py
fits scikit-learn's models on the run's own split and features, and eval.py prints a verdict.

A run of the release before these defaults still evaluates, predicts and resumes exactly:
tests/test_releases.py (0.8.0 among the releases it updates from).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import run_script

FAST = ["--device", "cpu", "--batch-size", "32"]
TASKS = ["regression", "binary", "multiclass", "multilabel"]


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def checkpoint(root: Path, run: str) -> dict:
    return torch.load(root / "runs" / run / "best.pt", map_location="cpu", weights_only=True)


FEATURES = """
import json
import sys

import numpy as np

from config import Config
from data_loader import load_data
from preprocessing import Preprocessing

cfg = Config.from_dict({"data": "data/skewed.csv", "target": ["y"], "numeric_scaling": sys.argv[1]})
splits = load_data(cfg)
pre = Preprocessing.fit(splits.train, cfg)
x = pre.transform(splits.train.table, splits.train.path).numpy()
names = list(pre.columns)
print(json.dumps({
    "specs": pre.columns,
    "income": x[:, names.index("income")].tolist(),
    "raw": splits.train.table["income"].tolist(),
    "flag": sorted(set(x[:, names.index("flag")].tolist())),
    "bins": pre.input_args()["numeric_bins"],
}))
"""


def skewed_table(root: Path, rows: int = 400) -> None:
    rng = np.random.default_rng(0)
    income = rng.lognormal(10, 1, rows)
    income[:3] = [1e9, 2e9, -5e8]  # a few absurd values
    flag = (rng.random(rows) < 0.1).astype(int)  # mostly 0: the interquartile range is 0
    y = np.log(np.abs(income)) + flag + rng.normal(0, 0.1, rows)
    pd.DataFrame({"income": income, "flag": flag, "y": y}).to_csv(
        root / "data" / "skewed.csv", index=False
    )


def test_robust_scaling_clips_outliers_smoothly_and_standard_is_the_z_score(project) -> None:
    root = project(task="regression", input="tabular")
    skewed_table(root)
    (root / "features.py").write_text(FEATURES)
    robust = last_json(run_script(root, "features.py", "robust").stdout)
    income, raw = np.array(robust["income"]), np.array(robust["raw"])
    # Every value lands within +-3, in the same order as the raw values; the median at 0.
    assert np.abs(income).max() <= 3 and np.abs(income).max() > 2.9
    order = np.argsort(raw, kind="stable")
    assert (np.diff(income[order]) >= 0).all()
    assert abs(income[np.argsort(raw)[len(raw) // 2]]) < 0.02
    # A flag that is mostly 0 (interquartile range 0) is scaled by half its range: 0 and 2,
    # which the smooth clipping makes 2 / sqrt(1 + (2/3)^2).
    assert robust["flag"] == pytest.approx([0.0, 2 / (1 + (2 / 3) ** 2) ** 0.5])
    assert robust["specs"]["income"]["clip"] is True
    # The model's bins: quantile edges of the scaled values, increasing, at most 49.
    edges = dict((index, e) for index, e in robust["bins"])
    assert sorted(edges) == [0, 1] and 2 <= len(edges[1]) <= 3 and len(edges[0]) == 49
    assert all(np.diff(e).min() > 0 for e in edges.values())

    standard = last_json(run_script(root, "features.py", "standard").stdout)
    income, raw = np.array(standard["income"]), np.array(standard["raw"])
    assert np.allclose(income, (raw - raw.mean()) / raw.std(), atol=1e-4)
    assert standard["specs"]["income"]["clip"] is False


def sine_table(root: Path, rows: int = 2000) -> None:
    """y = sin(12 x): many sharp bumps of one number, which trees fit and a plain MLP of a
    few epochs does not."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, rows)
    noise = rng.normal(0, 0.05, rows)
    frame = pd.DataFrame({"x": x, "other": rng.normal(size=rows), "y": np.sin(12 * x) + noise})
    frame.to_csv(root / "data" / "sine.csv", index=False)


def test_piecewise_embedding_fits_sharp_functions_and_switches_off(project) -> None:
    root = project(task="regression", input="tabular")
    sine_table(root)
    data = ["--data", "data/sine.csv", "--target", "y", *FAST, "--epochs", "12"]
    scores = {}
    for embedding in ("piecewise", "none"):
        run_script(
            root, "train.py", *data, "--numeric-embedding", embedding, "--run-name", embedding
        )
        run_script(root, "eval.py", "--run", f"runs/{embedding}")
        scores[embedding] = json.loads((root / f"runs/{embedding}/test_metrics.json").read_text())
    assert scores["piecewise"]["r2"] > 0.9, scores
    assert scores["piecewise"]["r2"] > scores["none"]["r2"] + 0.1, scores
    with_bins = checkpoint(root, "piecewise")["model_args"]
    assert [index for index, _ in with_bins["numeric_bins"]] == [0, 1]
    assert "numeric_bins" not in checkpoint(root, "none")["model_args"]
    assert not any(k.startswith("embedding.") for k in checkpoint(root, "none")["model"])
    # The linear model takes the features as they are, whatever the setting says.
    run_script(root, "train.py", *data, "--epochs", "1", "--model", "linear", "--run-name", "lin")
    assert set(checkpoint(root, "lin")["model_args"]) == {"name", "in_features", "out_features"}


@pytest.mark.parametrize("task", TASKS)
def test_baseline_fits_hgb_and_a_linear_model_and_eval_gives_a_verdict(project, task) -> None:
    root = project(task=task, input="tabular")
    run_script(root, "train.py", *FAST, "--epochs", "2", "--run-name", "t")
    result = run_script(root, "eval.py", "--run", "runs/t")
    assert "Is deep learning worth it here? python baseline.py --run runs/t" in result.stdout
    result = run_script(root, "baseline.py", "--run", "runs/t")
    found = json.loads((root / "runs/t/baseline_metrics.json").read_text())
    linear = "Ridge" if task == "regression" else "LogisticRegression"
    assert list(found["test"]) == ["HistGradientBoosting", linear]
    floor = {"regression": 0.2, "binary": 0.9, "multiclass": 0.85, "multilabel": 0.5}[task]
    assert min(found["test"].values()) > floor, found  # real models on the sample data
    assert f"HistGradientBoosting   test {found['metric']}" in result.stdout

    ours = json.loads((root / "runs/t/test_metrics.json").read_text())[found["metric"]]
    for shift, verdict in [
        (-0.1, "verdict: the network beats HistGradientBoosting, the better baseline, by 0.100"),
        (0.004, "verdict: on par with HistGradientBoosting (within 0.005)"),
        (0.1, "verdict: HistGradientBoosting is better by 0.100: prefer it"),
    ]:
        scores = {"HistGradientBoosting": ours + shift, linear: ours + shift - 0.2}
        found["test"] = scores
        (root / "runs/t/baseline_metrics.json").write_text(json.dumps(found))
        result = run_script(root, "eval.py", "--run", "runs/t")
        assert verdict in result.stdout, result.stdout
        assert f"this network {ours:.4f}; HistGradientBoosting {ours + shift:.4f}" in result.stdout


def test_baseline_without_scikit_learn_says_how_to_install_it(project, tmp_path) -> None:
    root = project(task="binary", input="tabular")
    run_script(root, "train.py", *FAST, "--epochs", "1", "--run-name", "t")
    hidden = tmp_path / "no_sklearn" / "sklearn"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('hidden for the test')\n")
    env = {"PYTHONPATH": str(hidden.parent)}
    result = run_script(root, "baseline.py", "--run", "runs/t", check=False, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: baseline.py needs scikit-learn: pip install scikit-learn"], lines
    assert not (root / "runs/t/baseline_metrics.json").exists()


def test_features_without_spread_get_no_bins_and_the_model_still_trains(project) -> None:
    """A date column of one year: its year feature is constant in training (one bin edge), so
    the embedding leaves it out instead of building an empty bin."""
    root = project(task="binary", input="tabular")
    frame = pd.read_csv(root / "data" / "breast_cancer.csv")
    days = pd.date_range("2024-01-01", periods=len(frame), freq="15h")
    frame.insert(0, "seen", days.strftime("%Y-%m-%d %H:%M"))
    assert days.year.nunique() == 1
    frame.to_csv(root / "data" / "dated.csv", index=False)
    run_script(
        root, "train.py", "--data", "data/dated.csv", *FAST, "--epochs", "1", "--run-name", "d"
    )
    saved = checkpoint(root, "d")
    parts = saved["preprocessing"]["features"]["columns"]["seen"]["parts"]
    assert list(parts) == ["year", "month", "day", "weekday", "hour"]
    embedded = [index for index, _ in saved["model_args"]["numeric_bins"]]
    assert 0 not in embedded and [1, 2, 3, 4] == embedded[:4]  # all but the year
    assert all(len(edges) > 1 for _, edges in saved["model_args"]["numeric_bins"])


EDGES = """
import json

import torch

from model import build_model

# Edges that float32 cannot tell apart (a huge value with --numeric-scaling standard).
bins = [[0, [0.0, 1e7, 1e7 + 1e-3, 2e7]], [1, [-1.0, 0.0, 1.0]]]
model = build_model("mlp", in_features=2, out_features=1, hidden_sizes=[8], dropout=0.0,
                    numeric_bins=bins)
x = torch.tensor([[1e7, 0.5], [0.0, -3.0], [5e7, 3.0]])
print(json.dumps({"finite": bool(torch.isfinite(model(x)).all())}))
"""


def test_bins_float32_cannot_tell_apart_give_finite_outputs(project) -> None:
    root = project(task="regression", input="tabular")
    (root / "edges.py").write_text(EDGES)
    assert last_json(run_script(root, "edges.py").stdout) == {"finite": True}
