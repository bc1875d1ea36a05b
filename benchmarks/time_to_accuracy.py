"""Time to accuracy: does a freshly generated project, trained with its defaults, at least match
a plain scikit-learn model on the same data, and how long does it take?

    python benchmarks/time_to_accuracy.py                          # all five examples
    python benchmarks/time_to_accuracy.py --examples binary image  # a subset
    python benchmarks/time_to_accuracy.py --keep /tmp/bench        # keep the projects there
    python benchmarks/time_to_accuracy.py --smoke                  # seconds: still runs (CI)

For each example configuration (regression, binary, multiclass and multilabel on tabular data,
and image classification) it:

1. renders a new project with every other answer left at its default;
2. runs `python train.py` then `python eval.py` in it, timing the training subprocess (wall
   seconds, interpreter start and data loading included) and reading the test-split metrics
   eval.py writes to runs/<run>/test_metrics.json;
3. fits a scikit-learn baseline (Ridge for regression, LogisticRegression otherwise, one per
   label for multilabel) in a subprocess run inside the project, on the project's own training
   split and preprocessing (`load_splits(Config())`; images flattened and scaled to 0..1). The
   baseline's decision function stands in for the model's outputs and goes through the
   project's `task.predict` and `task.compute_metrics`, so thresholds, un-scaling and the metric
   definitions are the project's own. Only the fit is timed.

It prints one row per example with the project's main metric (`task.MAIN_METRIC`, higher is
better) on the test split for both, and exits 1 if the project scores below the baseline on any
example (PASS: project >= baseline - 1e-9), else 0.

Timings are wall-clock seconds on whatever else the machine is doing: treat them as rough.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLES: dict[str, dict[str, str]] = {
    "regression": {"task": "regression", "input": "tabular"},
    "binary": {"task": "binary", "input": "tabular"},
    "multiclass": {"task": "multiclass", "input": "tabular"},
    "multilabel": {"task": "multilabel", "input": "tabular"},
    "image": {"task": "image"},
}
TOLERANCE = 1e-9
WORKER_FLAG = "--baseline-worker"  # internal: fit the baseline inside a project folder


@dataclass
class Result:
    example: str
    metric: str
    project: float
    baseline: float
    train_seconds: float
    fit_seconds: float

    @property
    def passed(self) -> bool:
        return self.project >= self.baseline - TOLERANCE


class BenchmarkError(Exception):
    """A step of one example failed; the message says which and shows its output."""


# ---------------------------------------------------------------------------------------------
# The baseline, run as `python time_to_accuracy.py --baseline-worker OUT.json` with the project
# folder as the working directory, so the project's modules import as they do for train.py.


def fit_baseline(out: Path) -> None:
    """Fit the scikit-learn baseline on the project's training split and write its main
    metric on the test split, and the fit time, to `out` as JSON."""
    sys.path.insert(0, os.getcwd())
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.multiclass import OneVsRestClassifier

    # The project's own modules, found through the working directory.
    task = importlib.import_module("task")
    config = importlib.import_module("config")
    cfg = config.Config()
    splits = importlib.import_module("data_loader").load_data(cfg)
    preprocessing = importlib.import_module("preprocessing").Preprocessing.fit(splits.train, cfg)
    train_set, test_set = preprocessing.dataset(splits.train), preprocessing.dataset(splits.test)
    targets = preprocessing.targets

    def features(x: torch.Tensor) -> np.ndarray:
        if x.dtype == torch.uint8:  # images (N, C, H, W)
            return x.flatten(1).double().div(255).numpy()
        return x.double().numpy()

    (x_train, y_train), (x_test, y_test) = train_set.tensors, test_set.tensors
    x_train, x_test, y_train = features(x_train), features(x_test), y_train.numpy()
    if task.MAIN_METRIC == "r2":  # regression: y is standardized (N, T)
        model: Any = Ridge()
    elif y_train.ndim == 1:  # multiclass: class index (N,)
        model = LogisticRegression(max_iter=2000)
    elif y_train.shape[1] == 1:  # binary: 0/1 (N, 1)
        model, y_train = LogisticRegression(max_iter=2000), y_train[:, 0].astype(np.int64)
    else:  # multilabel: multi-hot (N, L)
        model = OneVsRestClassifier(LogisticRegression(max_iter=2000))
        y_train = y_train.astype(np.int64)

    start = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - start

    # The decision function plays the model's outputs: standardized values (regression), the
    # positive-class logit (binary), class scores whose softmax is predict_proba (multiclass),
    # one logit per label (multilabel). task.predict turns them into predictions as eval.py does.
    scores = model.predict(x_test) if task.MAIN_METRIC == "r2" else model.decision_function(x_test)
    outputs = torch.as_tensor(scores, dtype=torch.float32)
    if outputs.ndim == 1:
        outputs = outputs.unsqueeze(1)  # (N,) -> (N, 1): one target or one positive logit
    pred, probs = task.predict(outputs, targets)
    metrics = task.metrics_from_state(task.metric_state(y_test, pred, probs, targets), targets)
    result = {"metric": task.MAIN_METRIC, "value": metrics[task.MAIN_METRIC]}
    out.write_text(json.dumps({**result, "fit_seconds": fit_seconds}))


# ---------------------------------------------------------------------------------------------
# The benchmark.


def run(command: list[str], cwd: Path, log: Path) -> float:
    """Run `command` in `cwd` with its output in `log`; return its wall-clock seconds."""
    start = time.perf_counter()
    with log.open("w") as f:
        done = subprocess.run(command, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise BenchmarkError(
            f"`{' '.join(command)}` failed in {cwd} (exit {done.returncode}):\n{tail}"
        )
    return seconds


def newest_test_metrics(project: Path) -> dict[str, Any]:
    found = sorted((project / "runs").glob("*/test_metrics.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise BenchmarkError(f"eval.py wrote no runs/*/test_metrics.json in {project}")
    return json.loads(found[-1].read_text())


def bench(example: str, project: Path, flags: tuple[str, ...] = ()) -> Result:
    from scaffold.errors import ScaffoldError
    from scaffold.render import create_project

    answers = {"project_name": f"bench_{example}", **EXAMPLES[example]}
    try:
        create_project(project, answers, interactive=False, git=False)
    except ScaffoldError as e:
        raise BenchmarkError(f"rendering {project} failed: {e}") from None
    logs = project / "benchmark_logs"
    logs.mkdir()
    python = sys.executable
    train_seconds = run([python, "train.py", *flags], project, logs / "train.log")
    run([python, "eval.py"], project, logs / "eval.log")
    test_metrics = newest_test_metrics(project)

    out = logs / "baseline.json"
    run(
        [python, str(Path(__file__).resolve()), WORKER_FLAG, str(out)],
        project,
        logs / "baseline.log",
    )
    baseline = json.loads(out.read_text())
    metric = baseline["metric"]
    return Result(
        example,
        metric,
        float(test_metrics[metric]),
        float(baseline["value"]),
        train_seconds,
        float(baseline["fit_seconds"]),
    )


HEADER = ("example", "metric", "project", "sklearn", "train s", "fit s", "result")
WIDTHS = (-11, -9, 8, 8, 8, 7, -6)  # negative: left-aligned


def format_row(cells: tuple[str, ...]) -> str:
    return "  ".join(
        cell.ljust(-width) if width < 0 else cell.rjust(width)
        for cell, width in zip(cells, WIDTHS, strict=True)
    ).rstrip()


def result_row(r: Result, smoke: bool = False) -> tuple[str, ...]:
    return (
        r.example,
        r.metric,
        f"{r.project:.4f}",
        f"{r.baseline:.4f}",
        f"{r.train_seconds:.1f}",
        f"{r.fit_seconds:.2f}",
        "-" if smoke else "PASS" if r.passed else "FAIL",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [WORKER_FLAG]:
        fit_baseline(Path(argv[1]))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--examples",
        nargs="+",
        choices=list(EXAMPLES),
        default=list(EXAMPLES),
        metavar="EXAMPLE",
        help=f"examples to run (default: all of {', '.join(EXAMPLES)})",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="render the projects into DIR/<example> and keep them (default: a temporary folder)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one example, one epoch, no verdict: seconds, to check that it still runs (CI)",
    )
    args = parser.parse_args(argv)
    flags: tuple[str, ...] = ()
    if args.smoke:
        args.examples, flags = ["multiclass"], ("--epochs", "1")

    sys.path.insert(0, str(REPO))
    root = args.keep.absolute() if args.keep else Path(tempfile.mkdtemp(prefix="tta-"))
    start = time.perf_counter()
    results: list[Result] = []
    errors: dict[str, str] = {}  # example -> what went wrong
    print(format_row(HEADER), flush=True)
    try:
        for example in dict.fromkeys(args.examples):  # in the order given, without repeats
            try:
                result = bench(example, root / example, flags)
            except BenchmarkError as e:
                errors[example] = str(e)
                print(format_row((example, "-", "-", "-", "-", "-", "ERROR")), flush=True)
                continue
            results.append(result)
            print(format_row(result_row(result, args.smoke)), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - start

    for example, error in errors.items():
        print(f"\nerror: {example}: {error}", file=sys.stderr)
    failed = [r.example for r in results if not r.passed] + list(errors)
    passed = sum(r.passed for r in results)
    verdict = (
        f"{passed}/{len(results) + len(errors)} examples match or beat the scikit-learn "
        f"baseline in {total:.0f}s"
    )
    if args.smoke:  # one epoch: the figures only show that every step still runs
        verdict, failed = (
            f"smoke run of {len(results)} example(s) in {total:.0f}s, no verdict",
            list(errors),
        )
    print(
        f"\n{verdict}"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + (f"; projects kept in {root}" if args.keep else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
