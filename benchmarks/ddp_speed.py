"""Training samples/s of generated projects in one process vs two under torchrun.

Renders a tabular-multiclass and an image project and trains each as a user would:

    python train.py ...                                    # 1 process, torch's default threads
    torchrun --standalone --nproc_per_node 2 train.py ...  # 2 processes (gloo on the CPU,
                                                           # nccl on CUDA), 1 thread each on CPU

Workloads: a synthetic 10-class table (--rows rows, 32 numeric features, labels from a random
linear teacher) with the default MLP at --batch-size; the project's digit images listed
--repeat times (a CSV of path,target) with the default CNN. samples/s = training samples per
epoch / the epoch's seconds from metrics.csv (which include the validation pass), median over
the epochs after the first. On a CPU-only machine two processes share the same cores, so
expect little gain there; the figure that matters is on GPUs (--device cuda).

    python benchmarks/ddp_speed.py                     # about 3 minutes on 2 cores
    python benchmarks/ddp_speed.py --device cuda       # on a machine with 2+ GPUs
    python benchmarks/ddp_speed.py --smoke             # seconds: checks that it still runs (CI)
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold.render import create_project  # noqa: E402


def render(dest: Path, answers: dict[str, str]) -> Path:
    create_project(dest, {"project_name": dest.name, **answers}, interactive=False, git=False)
    return dest


def synthetic_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 32)).astype(np.float32)
    labels = (x @ rng.standard_normal((32, 10))).argmax(axis=1)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*(f"f{i}" for i in range(32)), "label"])
        for features, label in zip(x.round(4).tolist(), labels.tolist(), strict=True):
            writer.writerow([*features, label])


def repeated_images(project: Path, repeat: int) -> Path:
    images = sorted((project / "data/digits").rglob("*.png"))
    path = project / "data/many.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "digit"])
        for _ in range(repeat):
            for image in images:
                writer.writerow([image.relative_to(path.parent).as_posix(), image.parent.name])
    return path


def samples_per_second(project: Path, run: str, processes: int, flags: list[str]) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "train.py"]
    if processes > 1:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += ["--nproc_per_node", str(processes), "train.py"]
        env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run(
        [*command, *flags, "--run-name", run], cwd=project, capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        sys.exit(f"{run} failed:\n{result.stdout}\n{result.stderr}")
    first = result.stdout.split(" train / ")[0].split()[-1]  # "N train / M val / ..."
    with (project / "runs" / run / "metrics.csv").open(newline="") as f:
        seconds = [float(row["seconds"]) for row in csv.DictReader(f)][1:]
    return int(first) / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=40, help="copies of the 300 digit images")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long run on tiny sizes (CI: it still works)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.repeat, args.epochs, args.batch_size = 2_000, 1, 2, 64

    common = ["--epochs", str(args.epochs), "--patience", "0", "--tracker", "none"]
    common += ["--device", args.device, "--batch-size", str(args.batch_size)]
    print(f"{'workload':<34} {'1 process':>12} {'2 processes':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        table = render(Path(tmp) / "tabular", {"task": "multiclass", "input": "tabular"})
        synthetic_table(table / "data/big.csv", args.rows)
        image = render(Path(tmp) / "image", {"task": "image"})
        many = repeated_images(image, args.repeat)
        workloads = [
            (f"MLP, {args.rows:,} rows", table, ["--data", "data/big.csv", "--target", "label"]),
            (
                f"CNN, {300 * args.repeat:,} 16x16 images",
                image,
                ["--data", str(many), "--target", "digit"],
            ),
        ]
        for name, project, flags in workloads:
            one = samples_per_second(project, "one", 1, [*common, *flags])
            two = samples_per_second(project, "two", 2, [*common, *flags])
            print(f"{name:<34} {one:>12,.0f} {two:>12,.0f} {two / one:>6.2f}x")
    print("samples/s: training samples per epoch / epoch seconds (median after the first)")


if __name__ == "__main__":
    main()
