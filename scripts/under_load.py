"""Run the README's test command several times in a row while other processes keep every core
busy, and say how each run went: a test that only passes on a quiet machine shows up here.

    python scripts/under_load.py                 # 5 runs of `pytest -n 2`, 2 busy processes
    python scripts/under_load.py --runs 1 -- tests/reliability   # extra pytest arguments

The load is one pure-Python busy loop per core (as `stress --cpu N` would be), started before
the first run and stopped after the last. Exit 0 when every run passed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def spin() -> None:
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()
    load = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for process in load:
        process.start()
    print(f"{args.busy} busy processes started", flush=True)
    failed = 0
    try:
        for run in range(1, args.runs + 1):
            start = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-n", "2", "-q", *args.pytest_args],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
            minutes = (time.monotonic() - start) / 60
            print(f"run {run}: exit {result.returncode} in {minutes:.1f} min: {summary}")
            if result.returncode != 0:
                failed += 1
                log = Path(f"under_load_run{run}.log")
                log.write_text(result.stdout + result.stderr)
                print(f"  output in {log}", flush=True)
    finally:
        for process in load:
            process.terminate()
    print(f"{args.runs - failed} of {args.runs} runs passed under load")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
