"""Is deep learning worth it here? scikit-learn's HistGradientBoosting and a linear model,
trained on exactly the rows and features a run trained on and scored on its test split.

    pip install scikit-learn            # or: pip install -e ".[baseline]"
    python baseline.py                  # the newest run
    python baseline.py --run runs/NAME

Both models see the features the run's preprocessing makes (fit on its training split only)
and train on its training and validation rows together (neither needs a validation split;
--train-only: the training rows alone, as the network), with scikit-learn's default settings.
The test split is eval.py's. Writes baseline_metrics.json into the run folder; eval.py then
prints these scores next to the network's, with a one-line verdict.
"""

import json
import sys
import time
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path
from typing import Any

import numpy as np
import torch

import task
from checkpoints import latest_run, load_checkpoint
from config import Config
from data_loader import load_data
from preprocessing import Preprocessing
from utils import UserError


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="run folder (default: the newest in runs/)")
    parser.add_argument(
        "--train-only", action="store_true", help="fit on the training split only, as the network"
    )
    args = parser.parse_args()
    models = baseline_models()
    run_dir = args.run or latest_run(Path(Config.runs_dir))
    checkpoint = load_checkpoint(run_dir / "best.pt")
    cfg = Config.from_dict(checkpoint["config"])
    preprocessing = Preprocessing.from_state_dict(checkpoint["preprocessing"])
    data = load_data(cfg, checkpoint)  # the run's file, unchanged, split as it was
    fit = [data.train] if args.train_only else [data.train, data.val]
    *parts, test = (preprocessing.dataset(s).tensors for s in (*fit, data.test))
    x, x_test = torch.cat([p[0] for p in parts]).double().numpy(), test[0].double().numpy()
    print(f"{len(x)} training rows, {x.shape[1]} features; {len(x_test)} test rows")
    y = fit_targets(torch.cat([p[1] for p in parts]).numpy())
    targets, scores = preprocessing.targets, {}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(x, y)
        seconds = time.perf_counter() - start
        outputs = raw_scores(model, x_test, len(targets.names))
        logits = torch.as_tensor(outputs, dtype=torch.float32)
        pred, probs = task.predict(logits, targets)
        metrics = task.metrics_from_state(task.metric_state(test[1], pred, probs, targets), targets)
        scores[name] = metrics[task.MAIN_METRIC]
        print(f"{name:<22} test {task.MAIN_METRIC} {scores[name]:.4f}  ({seconds:.1f}s to fit)")
    out = run_dir / "baseline_metrics.json"
    fitted = "train" if args.train_only else "train+val"
    summary = {"metric": task.MAIN_METRIC, "fit_on": fitted, "test": scores}
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}; python eval.py --run {run_dir} compares them with the network")


def baseline_models() -> dict[str, Any]:
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.linear_model import Ridge
        from sklearn.multioutput import MultiOutputRegressor
    except ImportError:
        raise UserError("baseline.py needs scikit-learn: pip install scikit-learn") from None
    # One gradient-boosting model per target column; Ridge fits all targets at once.
    return {
        "HistGradientBoosting": MultiOutputRegressor(HistGradientBoostingRegressor(random_state=0)),
        "Ridge": Ridge(),
    }


def fit_targets(y: np.ndarray) -> np.ndarray:
    """The training targets as scikit-learn takes them."""
    return y  # (N, T) standardized values, as the network learns them


def raw_scores(model: Any, x: Any, outputs: int) -> np.ndarray:
    """A fitted model's outputs in the network's form, so task.predict() and the metrics treat
    them exactly as the network's: standardized values (N, T)."""
    return model.predict(x).reshape(len(x), -1)


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit(f"error: {e}")
