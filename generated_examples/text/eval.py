"""Evaluate a trained model on the held-out test split.

    python eval.py                          # the newest run's best.pt
    python eval.py --run runs/NAME --checkpoint last

The test split is the same one training held out: same data file, seed and split sizes, and
the preprocessing saved in the checkpoint. Writes test_metrics.json into the run folder, and
confusion_matrix.png.
"""

import dataclasses
import json
import sys
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path

import task
from checkpoints import latest_run, load_checkpoint
from config import Config
from data_loader import load_data, make_loader
from distributed import Processes
from model import build_model
from preprocessing import Preprocessing
from utils import UserError, collect_logits, pick_device


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="run folder (default: the newest in runs/)")
    parser.add_argument("--checkpoint", choices=["best", "last"], default="best")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps, ...")
    parser.add_argument("--test-data", type=Path, help="score this labelled file instead")
    args = parser.parse_args()

    run_dir = args.run or latest_run(Path(Config.runs_dir))
    path = run_dir / f"{args.checkpoint}.pt"
    checkpoint = load_checkpoint(path)
    cfg = Config.from_dict(checkpoint["config"])  # a bad saved setting: one error line
    if args.test_data:  # a file of its own: the run's data file no longer decides the test rows
        cfg = dataclasses.replace(cfg, test_data=str(args.test_data))
    preprocessing = Preprocessing.from_state_dict(checkpoint["preprocessing"])
    data = load_data(cfg, checkpoint, check=args.test_data is None)
    test_set = preprocessing.dataset(data.test)
    device = pick_device(args.device)
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    model.to(device)

    loader = make_loader(test_set, cfg.batch_size, Processes(device=device))
    logits = collect_logits(model, (x for x, _ in loader))
    y, targets = loader.y.cpu(), preprocessing.targets
    pred, probs = task.predict(logits, targets)
    metrics = task.metrics_from_state(task.metric_state(y, pred, probs, targets), targets)

    out = run_dir / "test_metrics.json"
    summary = {"checkpoint": str(path), "epoch": checkpoint["epoch"], "samples": len(y)}
    out.write_text(json.dumps({**summary, **metrics}, indent=2) + "\n")
    print(f"{path} (epoch {checkpoint['epoch']}) on {len(y)} test samples\n")
    print(task.report(metrics, targets))
    print(f"\nwrote {out}")
    if figure := task.plot_test(y, pred, metrics, targets, run_dir):
        print(f"wrote {figure}")
    if not args.test_data:  # baseline.py scores the run's own test split
        compare_with_baselines(run_dir, metrics[task.MAIN_METRIC])


def compare_with_baselines(run_dir: Path, ours: float) -> None:
    """baseline.py's test scores next to the network's, and a one-line verdict."""
    path = run_dir / "baseline_metrics.json"
    if not path.is_file():
        print(f"\nIs deep learning worth it here? python baseline.py --run {run_dir}")
        return
    scores = json.loads(path.read_text())["test"]
    shown = ", ".join(f"{name} {score:.4f}" for name, score in scores.items())
    print(f"\ntest {task.MAIN_METRIC}: this network {ours:.4f}; {shown} (baseline.py)")
    name, best = max(scores.items(), key=lambda item: item[1])
    if ours > best + 0.005:
        print(f"verdict: the network beats {name}, the better baseline, by {ours - best:.3f}")
    elif ours >= best - 0.005:
        print(f"verdict: on par with {name} (within 0.005): deep learning brings no gain here")
    else:
        print(f"verdict: {name} is better by {best - ours:.3f}: prefer it, or tune the network")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit(f"error: {e}")
