"""Loading a big CSV in a generated project: seconds and peak memory.

Writes a 1,000,000-row x 20-column numeric CSV (19 float features and a float target), renders
a tabular regression project and, in a fresh process, times the project's own
`load_data` + `Preprocessing.fit` + `Preprocessing.dataset` (steps 1-3: read, split, type the
columns, fit the statistics on the training split, transform each split into tensors). Peak
memory is the process's peak resident size (ru_maxrss) minus its size after the imports,
compared with the float32 size of the data (rows x columns x 4 bytes). Target: at most 3x.

    python benchmarks/csv_load.py              # about 30 s
    python benchmarks/csv_load.py --rows 200000
    python benchmarks/csv_load.py --smoke      # seconds: checks that it still runs (CI)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold.render import create_project  # noqa: E402

MEASURE = """
import json, resource, sys, time
sys.path.insert(0, ".")
import numpy, pandas, torch
from config import Config
from data_loader import load_data
from preprocessing import Preprocessing

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

before = rss_mib()
start = time.perf_counter()
cfg = Config(data=sys.argv[1], target=["target"])
data = load_data(cfg)
preprocessing = Preprocessing.fit(data.train, cfg)
sets = [preprocessing.dataset(part) for part in (data.train, data.val, data.test)]
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "baseline_mib": before,
    "peak_mib": rss_mib(),
    "rows": sum(map(len, sets)),
    "features": preprocessing.size,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long run on tiny sizes (CI: it still works)"
    )
    parser.add_argument("--columns", type=int, default=20, help="features + 1 target")
    args = parser.parse_args()
    if args.smoke:
        args.rows = 2_000
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench_csv"
        create_project(
            project,
            {"project_name": project.name, "task": "regression", "input": "tabular"},
            interactive=False,
            git=False,
        )
        rng = np.random.default_rng(0)
        values = rng.standard_normal((args.rows, args.columns)).astype(np.float32)
        names = [f"x{i}" for i in range(args.columns - 1)] + ["target"]
        csv = Path(tmp) / "big.csv"
        pd.DataFrame(values, columns=names).to_csv(csv, index=False, float_format="%.6g")
        print(f"{csv.stat().st_size / 2**20:.0f} MiB CSV, {args.rows:,} rows x {args.columns}")
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, str(csv)],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        )
    m = json.loads(result.stdout.strip().splitlines()[-1])
    array_mib = args.rows * args.columns * 4 / 2**20
    used = m["peak_mib"] - m["baseline_mib"]
    print(f"steps 1-3: {m['seconds']:.2f} s for {m['rows']:,} rows, {m['features']} features")
    print(
        f"peak memory: {used:.0f} MiB above the {m['baseline_mib']:.0f} MiB after imports "
        f"= {used / array_mib:.2f}x the float32 array ({array_mib:.0f} MiB); target <= 3x: "
        + ("smoke run, no verdict" if args.smoke else "PASS" if used <= 3 * array_mib else "FAIL")
    )


if __name__ == "__main__":
    main()
