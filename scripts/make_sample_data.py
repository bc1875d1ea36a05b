"""Write the template's sample datasets from scikit-learn's bundled copies, and the text sample
(reviews.csv) from the VADER ground-truth data in vaderSentiment's source distribution.

    python scripts/make_sample_data.py
    python scripts/make_sample_data.py --vader vaderSentiment-3.3.2.tar.gz   # also reviews.csv

`pip download vaderSentiment==3.3.2 --no-binary :all: --no-deps` fetches that file (PyPI).

Every generated project ships one of these files so `python train.py` works offline.
The output is deterministic; re-running it changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import shutil
import tarfile
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


def vader_data(sdist: Path, name: str) -> tuple[list[list[str]], dict[str, list[int]]]:
    """One VADER data set (Hutto and Gilbert, 2014) from the vaderSentiment source distribution:
    its rows [id, mean rating, text], and each text's raw ratings by id."""
    with tarfile.open(sdist) as outer:
        member = next(m for m in outer.getnames() if m.endswith("hutto_ICWSM_2014.tar.gz"))
        inner = tarfile.open(fileobj=io.BytesIO(outer.extractfile(member).read()))

    def lines(suffix: str) -> list[list[str]]:
        path = next(m for m in inner.getnames() if m.endswith(f"{name}_{suffix}.txt"))
        text = inner.extractfile(path).read().decode("utf-8-sig")
        return [line.split("\t") for line in text.splitlines() if line.strip()]

    ratings = {row[0]: ast.literal_eval(row[3]) for row in lines("anonDataRatings")}
    return lines("GroundTruth"), ratings


def write_reviews(sdist: Path) -> None:
    """reviews.csv: VADER's 3,708 sentences from Amazon customer reviews (Hu and Liu, 2004),
    each rated by 20 people from -4 (extremely negative) to +4 (extremely positive)."""
    rows, ratings = vader_data(sdist, "amazonReviewSnippets")
    table = []
    for sample_id, mean, text in rows:
        sentiment, votes = float(mean), np.array(ratings[sample_id])
        polarity = "positive" if sentiment > 0 else "negative" if sentiment < 0 else ""
        tone = "positive" if sentiment > 0.5 else "negative" if sentiment < -0.5 else "neutral"
        labels = [np.mean(votes > 0), np.mean(votes < 0), np.mean(np.abs(votes) >= 3)]
        multi = [int(share >= 0.25) for share in labels]  # at least a quarter of the raters
        table.append([text.strip(), round(sentiment, 3), polarity, tone, *multi])
    header = ["text", "sentiment", "polarity", "tone", "positive", "negative", "strong"]
    write_csv(DATA / "reviews.csv", header, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vader", type=Path, help="vaderSentiment-3.3.2.tar.gz: write reviews.csv")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    if args.vader:
        write_reviews(args.vader)

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
