"""Evaluate a trained model on the held-out test split.

    python eval.py                          # the newest run's best.pt
    python eval.py --run runs/NAME --checkpoint last

The test split is the same one training held out: same data file, seed and split sizes, and
the preprocessing saved in the checkpoint. Writes test_metrics.json into the run folder, and
confusion_matrix.png when matplotlib is installed.
"""

import argparse
import json
import sys
from pathlib import Path

import task
from config import Config
from data_loader import load_splits
from model import build_model
from utils import UserError, collect_logits, latest_run, load_checkpoint, pick_device


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="run folder (default: the newest in runs/)")
    parser.add_argument("--checkpoint", choices=["best", "last"], default="best")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps, ...")
    args = parser.parse_args()

    run_dir = args.run or latest_run(Path(Config.runs_dir))
    path = run_dir / f"{args.checkpoint}.pt"
    checkpoint = load_checkpoint(path)
    cfg = Config.from_dict(checkpoint["config"])
    data = load_splits(cfg, checkpoint["preprocessing"])
    device = pick_device(args.device)
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    model.to(device)

    logits = collect_logits(model, data.test.inputs(cfg.batch_size))
    pred, probs = task.predict(logits, data.targets)
    metrics = task.compute_metrics(data.test.y, pred, probs, data.targets)

    out = run_dir / "test_metrics.json"
    summary = {"checkpoint": str(path), "epoch": checkpoint["epoch"], "samples": len(data.test)}
    out.write_text(json.dumps({**summary, **metrics}, indent=2) + "\n")
    print(f"{path} (epoch {checkpoint['epoch']}) on {len(data.test)} test samples\n")
    print(task.report(metrics, data.targets))
    print(f"\nwrote {out}")
    figure = task.plot_test(data.test.y, pred, metrics, data.targets, run_dir)
    if figure is not None:
        print(f"wrote {figure}")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit(f"error: {e}")
