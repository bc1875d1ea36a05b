"""Predict with a trained model on new data in the training format (targets not needed).

    python predict.py --input data/reviews.csv
    python predict.py --input NEW_DATA --output predictions.csv --run runs/NAME

Writes one CSV row per sample: its line number in the input file,
then the predicted class name and the probabilities.
"""

import sys
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path

import pandas as pd

import task
from checkpoints import latest_run, load_checkpoint
from config import Config
from data_loader import load_inputs
from model import build_model
from preprocessing import Preprocessing
from utils import UserError, collect_logits, pick_device


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=RawDescriptionHelpFormatter)
    parser.add_argument(
        "--input", type=Path, required=True, help="CSV (or Parquet) file with the text column"
    )
    parser.add_argument("--output", type=Path, help="CSV to write (default: RUN/predictions.csv)")
    parser.add_argument("--run", type=Path, help="run folder (default: the newest in runs/)")
    parser.add_argument("--checkpoint", choices=["best", "last"], default="best")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps, ...")
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args()

    run_dir = args.run or latest_run(Path(Config.runs_dir))
    out = args.output or run_dir / "predictions.csv"
    if out.is_dir():
        raise UserError(f"--output {out} is a folder: give a file name, e.g. {out / 'p.csv'}")
    checkpoint = load_checkpoint(run_dir / f"{args.checkpoint}.pt")
    preprocessing = Preprocessing.from_state_dict(checkpoint["preprocessing"])
    ids, x = load_inputs(args.input, preprocessing)
    model = build_model(**checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    model.to(pick_device(args.device))

    logits = collect_logits(model, x.split(args.batch_size))
    pred, probs = task.predict(logits, preprocessing.targets)
    table = pd.concat([ids, task.to_frame(pred, probs, preprocessing.targets)], axis=1)

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from None
    print(table.head(10).to_string(index=False))
    print(f"{len(table)} predictions written to {out}")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit(f"error: {e}")
