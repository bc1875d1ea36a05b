"""Write the template's sample datasets from scikit-learn's bundled copies.

    python scripts/make_sample_data.py

Every generated project ships one of these files so `python train.py` works offline.
The output is deterministic; re-running it changes nothing.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn import datasets

DATA = Path(__file__).resolve().parent.parent / "templates" / "project" / "data"
# The image folder's name renders empty for tabular projects, so copier skips it quickly.
DIGITS = "{% if input == 'image' %}digits{% endif %}"
PRIMES = {2, 3, 5, 7}
IMAGES_PER_CLASS = 30


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def fmt(value: float) -> str:
    """Shortest exact text for a float read from scikit-learn's files."""
    return (
        repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
    )


def digit_properties(digit: int) -> list[int]:
    return [int(digit % 2 == 0), int(digit in PRIMES), int(digit > 4)]


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)

    diabetes = datasets.load_diabetes(scaled=False)
    write_csv(
        DATA / "diabetes.csv",
        [*diabetes.feature_names, "progression"],
        [[*map(fmt, x), fmt(t)] for x, t in zip(diabetes.data, diabetes.target, strict=True)],
    )

    cancer = datasets.load_breast_cancer()
    names = [n.replace(" ", "_") for n in cancer.feature_names]
    write_csv(
        DATA / "breast_cancer.csv",
        [*names, "diagnosis"],
        [
            [*map(fmt, x), cancer.target_names[t]]
            for x, t in zip(cancer.data, cancer.target, strict=True)
        ],
    )

    wine = datasets.load_wine()
    write_csv(
        DATA / "wine.csv",
        [*wine.feature_names, "cultivar"],
        [[*map(fmt, x), wine.target_names[t]] for x, t in zip(wine.data, wine.target, strict=True)],
    )

    digits = datasets.load_digits()
    labels = ["even", "prime", "greater_than_4"]
    write_csv(
        DATA / "digits_pixels.csv",
        [*(f"pixel_{r}_{c}" for r in range(8) for c in range(8)), *labels],
        [
            [*(int(v) for v in x), *digit_properties(t)]
            for x, t in zip(digits.data, digits.target, strict=True)
        ],
    )

    # Images: the first IMAGES_PER_CLASS samples of each digit, 8x8 grey levels 0..16 scaled to
    # 0..255, one PNG per sample (named by its index in scikit-learn's copy), one folder per
    # digit. Few files keep rendering fast: copier spends ~5 ms per file.
    shutil.rmtree(DATA / DIGITS, ignore_errors=True)
    chosen = np.sort(
        np.concatenate([np.flatnonzero(digits.target == d)[:IMAGES_PER_CLASS] for d in range(10)])
    )
    paths = []
    for i in chosen:
        image, digit = digits.images[i], digits.target[i]
        rel = Path("digits") / str(digit) / f"{i:04d}.png"
        out = DATA / DIGITS / rel.relative_to("digits")
        out.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.rint(image * (255 / 16)).astype(np.uint8)
        Image.fromarray(pixels).save(out, optimize=True)
        paths.append((rel.as_posix(), int(digit)))
    write_csv(
        DATA / "digits_parity.csv",
        ["path", "parity"],
        [[p, "even" if d % 2 == 0 else "odd"] for p, d in paths],
    )
    write_csv(DATA / "digits_value.csv", ["path", "value"], [[p, d] for p, d in paths])
    write_csv(
        DATA / "digits_properties.csv",
        ["path", *labels],
        [[p, *digit_properties(d)] for p, d in paths],
    )


if __name__ == "__main__":
    main()
