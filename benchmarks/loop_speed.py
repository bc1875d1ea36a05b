"""Training-loop speed of generated projects, side by side with the floor and the classic loop.

Renders a tabular-multiclass and an image project, imports their own train.py, model.py and
data_loader.py, and measures training samples/s on in-memory data for three loops that share
the model, loss and optimizer (the project's make_optimizer: fused AdamW):

    floor      forward + backward + step over pre-made batches: no batching cost at all
    generated  the project's train_loader (make_loader: shuffled index slicing) and
               train_one_epoch (loss kept on the device, NaN guard, progress bar)
    classic    DataLoader(TensorDataset(x, y), shuffle=True), loss.item() every step

Workloads (the issue's): an MLP 32-256-256-10 on 200,000 rows at batch 512 and 64, and the
project's SmallCNN on 16x16 grey images. Each repeat runs one epoch of every loop in turn
(interleaved, in a rotating order, so machine noise hits all three alike). The table shows the
fastest epoch's samples/s (noise only adds time; the ratios use these) and the median epoch's.
The image loops, like the others, are timed after a warm-up epoch ("after the first epoch").

    python benchmarks/loop_speed.py                # about 3 minutes on 2 cores
    python benchmarks/loop_speed.py --repeats 3 --rows 50000 --images 2000   # quicker
    python benchmarks/loop_speed.py --smoke        # seconds: checks that it still runs (CI)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from types import ModuleType

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold.render import create_project  # noqa: E402

PROJECT_MODULES = [
    "utils",
    "config",
    "task",
    "distributed",
    "data_files",
    "data_loader",
    "preprocessing",
    "model",
    "checkpoints",
    "run_state",
    "train",
]


def load_project(dest: Path, answers: dict[str, str]) -> dict[str, ModuleType]:
    """Render a project and import its modules (fresh, in case another project was imported)."""
    create_project(dest, {"project_name": dest.name, **answers}, interactive=False, git=False)
    for name in PROJECT_MODULES:
        sys.modules.pop(name, None)
    sys.path.insert(0, str(dest))
    try:
        return {name: __import__(name) for name in PROJECT_MODULES}
    finally:
        sys.path.remove(str(dest))


def floor_epoch(model, criterion, optimizer, batches: list) -> None:
    model.train()
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def classic_epoch(model, criterion, optimizer, loader: DataLoader) -> float:
    model.train()
    running = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(y)
    return running / len(loader.dataset)


def measure(
    p: dict[str, ModuleType],
    cfg_overrides: dict,
    x: torch.Tensor,
    y: torch.Tensor,
    model_args: dict,
    repeats: int,
    warmup: int,
) -> dict[str, dict[str, float]]:
    """Fastest-epoch and median-epoch samples/s of the three loops on (x, y)."""
    cfg = p["config"].Config.from_dict(cfg_overrides)
    device = torch.device("cpu")
    criterion = nn.CrossEntropyLoss()

    def setup() -> tuple[nn.Module, torch.optim.Optimizer]:
        torch.manual_seed(0)
        model = p["model"].build_model(**model_args)
        return model, p["train"].make_optimizer(cfg, model, device)

    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    premade = [
        (x[order[i : i + cfg.batch_size]], y[order[i : i + cfg.batch_size]])
        for i in range(0, len(y), cfg.batch_size)
    ]
    loader = DataLoader(TensorDataset(x, y), batch_size=cfg.batch_size, shuffle=True)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    procs = p["distributed"].Processes(device=device)  # one process
    floor_model, floor_opt = setup()
    gen_model, gen_opt = setup()
    classic_model, classic_opt = setup()
    train_loader = p["data_loader"].make_loader(
        TensorDataset(x, y), cfg.batch_size, procs, shuffle=True, seed=cfg.seed
    )
    stopper = p["utils"].EarlyStopping(0)
    state = p["run_state"].RunState(
        cfg, procs, gen_model, gen_opt, None, scaler, stopper, None, {}, ""
    )

    def generated_epoch(epoch: int) -> None:
        train_loader.set_epoch(epoch)
        p["train"].train_one_epoch(
            gen_model, train_loader, criterion, gen_opt, scaler, nullcontext(), state
        )
        state.epoch_done(0.0, {})

    runners: dict[str, Callable[[int], object]] = {
        "floor": lambda e: floor_epoch(floor_model, criterion, floor_opt, premade),
        "generated": generated_epoch,
        "classic": lambda e: classic_epoch(classic_model, criterion, classic_opt, loader),
    }

    times: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for epoch in range(1, warmup + repeats + 1):
        # Rotate the order every epoch, so no loop always runs right after the same other one.
        shift = epoch % len(names)
        for name in names[shift:] + names[:shift]:
            run = runners[name]
            start = time.perf_counter()
            run(epoch)
            if epoch > warmup:
                times[name].append(time.perf_counter() - start)
    # Noise on a shared machine only ever adds time: the fastest epoch is the best estimate of
    # each loop's own cost (as timeit does); the median shows the typical epoch.
    median = {name: len(y) / statistics.median(t) for name, t in times.items()}
    best = {name: len(y) / min(t) for name, t in times.items()}
    return {"median": median, "best": best}


def report(title: str, result: dict[str, dict[str, float]]) -> list[str]:
    print(f"\n{title}")
    best, median = result["best"], result["median"]
    header = ["best samples/s", "x floor", "median samples/s", "x floor"]
    print(f"  {'loop':<10} {header[0]:>15} {header[1]:>8} {header[2]:>17} {header[3]:>8}")
    for name in best:
        print(
            f"  {name:<10} {best[name]:>15,.0f} {best[name] / best['floor']:>8.2f}"
            f" {median[name]:>17,.0f} {median[name] / median['floor']:>8.2f}"
        )
    return [f"{title}: generated {best['generated'] / best['floor']:.2f} x floor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per loop")
    parser.add_argument("--rows", type=int, default=200_000, help="tabular rows")
    parser.add_argument("--images", type=int, default=6_000, help="16x16 images")
    parser.add_argument("--target", type=float, default=0.95, help="generated / floor to pass")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long run on tiny sizes (CI: it still works)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.rows, args.images = 1, 2_000, 200
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.repeats} repeats")

    summary, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tab = load_project(Path(tmp) / "bench_tabular", {"task": "multiclass", "input": "tabular"})
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(args.rows, 32, generator=gen)
        y = (x[:, :10] + 0.5 * torch.randn(args.rows, 10, generator=gen)).argmax(dim=1)
        mlp = {
            "name": "mlp",
            "in_features": 32,
            "out_features": 10,
            "hidden_sizes": [256, 256],
            "dropout": 0.1,
        }
        for batch in (512, 64):
            rates = measure(tab, {"batch_size": batch}, x, y, mlp, args.repeats, warmup=1)
            summary += report(
                f"tabular MLP 32-256-256-10, {args.rows:,} rows, batch {batch}", rates
            )
            ratios.append(rates["best"]["generated"] / rates["best"]["floor"])

        img = load_project(Path(tmp) / "bench_image", {"task": "image"})
        images = torch.randint(0, 256, (args.images, 1, 16, 16), dtype=torch.uint8, generator=gen)
        labels = torch.randint(0, 10, (args.images,), generator=gen)
        cnn = {
            "name": "cnn",
            "in_channels": 1,
            "out_features": 10,
            "widths": [32, 64, 128],
            "dropout": 0.1,
            "mean": [0.5],
            "std": [0.25],
            "crop_padding": 1,
            "flip": False,
        }
        rates = measure(img, {"batch_size": 64}, images, labels, cnn, args.repeats, warmup=1)
        summary += report(
            f"image SmallCNN 32-64-128, {args.images:,} 16x16 images, batch 64", rates
        )
        ratios.append(rates["best"]["generated"] / rates["best"]["floor"])

    print("\nsummary")
    for line in summary:
        print("  " + line)
    worst = min(ratios)
    verdict = "PASS" if worst >= args.target else "BELOW TARGET"
    verdict = "smoke run, no verdict" if args.smoke else verdict
    print(f"  worst ratio {worst:.2f} (target >= {args.target}): {verdict}")


if __name__ == "__main__":
    main()
