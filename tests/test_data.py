"""Generated projects take messy real data without code edits.

Each bad-data case is run the way a user runs it (`python train.py --data FILE`): an error is
one line naming the file, the column and the line where it applies, printed before any
training step, with a non-zero exit and no checkpoint written; a problem training can work
around is a warning and the run trains.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import run_script

FAST = ["--epochs", "1", "--device", "cpu", "--run-name", "t"]
BINARY = {"task": "binary", "input": "tabular"}
SAMPLE = "data/breast_cancer.csv"
TARGET = "diagnosis"


def train(project: Path, *args: str, ok: bool = True) -> tuple[str, str]:
    result = run_script(project, "train.py", *FAST, *args, check=False)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        assert result.returncode != 0, result.stdout
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line
        assert "Traceback" not in result.stderr
        assert not list(project.glob("runs/**/*.pt")), "a failed run wrote a checkpoint"
    return result.stdout, result.stderr


def checkpoint(project: Path) -> dict:
    return torch.load(project / "runs/t/last.pt", map_location="cpu", weights_only=True)


def write(project: Path, name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> str:
    """A variant of the binary sample data, written as data/NAME."""
    frame = change(pd.read_csv(project / SAMPLE))
    frame.to_csv(project / "data" / name, index=False)
    return f"data/{name}"


def with_text(frame: pd.DataFrame) -> pd.DataFrame:
    frame["mean_radius"] = frame["mean_radius"].astype(object)
    frame.loc[40, "mean_radius"] = "abc"  # CSV line 42 (the header is line 1)
    return frame


ERRORS = {
    "empty file": (lambda p: (p / "data/x.csv").write_text("") or "data/x.csv", "is empty"),
    "header only": (lambda p: write(p, "x.csv", lambda f: f.head(0)), "only a header"),
    "text in a number column": (
        lambda p: write(p, "x.csv", with_text),
        "column 'mean_radius' line 42: 'abc' is not a number",
    ),
    "a single class": (
        lambda p: write(p, "x.csv", lambda f: f.assign(diagnosis="benign")),
        "1 class(es) ['benign']",
    ),
    "7 classes for binary": (
        lambda p: write(p, "x.csv", lambda f: f.assign(diagnosis=np.arange(len(f)) % 7)),
        "has 7 class(es)",
    ),
    "a numeric target for a classifier": (
        lambda p: write(p, "x.csv", lambda f: f.assign(diagnosis=np.arange(len(f)) * 0.37)),
        "non-integer values",
    ),
    "every target missing": (
        lambda p: write(p, "x.csv", lambda f: f.assign(diagnosis=np.nan)),
        "every row has a missing target",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_table_is_one_line_naming_the_file_and_writes_nothing(project, case: str) -> None:
    proj = project(**BINARY)
    make, message = ERRORS[case]
    data = make(proj)
    _, err = train(proj, "--data", data, ok=False)
    assert err.startswith(f"error: {data}: "), err
    assert message in err


def test_missing_target_column_lists_the_columns(project) -> None:
    proj = project(**BINARY)
    _, err = train(proj, "--target", "nope", ok=False)
    assert f"error: {SAMPLE}: no column(s) ['nope']; its columns are 'mean_radius'" in err


def test_missing_data_file(project) -> None:
    _, err = train(project(**BINARY), "--data", "data/nope.csv", ok=False)
    assert err.strip() == "error: data/nope.csv: file not found"


def test_messy_columns_are_typed_dropped_and_filled(project) -> None:
    """ID, constant, empty and free-text columns are dropped with a warning naming each;
    dates become numeric parts; NaN and inf are imputed; a missing target skips the row."""
    proj = project(**BINARY)
    rng = np.random.default_rng(0)

    def messy(frame: pd.DataFrame) -> pd.DataFrame:
        n = len(frame)
        frame["customer_id"] = rng.permutation(n) + 1000
        frame["constant"] = 7
        frame["empty"] = np.nan
        frame["comment"] = [f"note {i}" for i in range(n)]
        frame["city"] = rng.choice(["Paris", "Lyon", None], n)
        frame["signup"] = pd.date_range("2020-01-01", periods=n, freq="37h").astype(str)
        frame.loc[::4, "mean_texture"] = np.inf
        frame.loc[::5, "mean_area"] = np.nan
        frame.loc[3, TARGET] = None
        return frame

    out, _ = train(proj, "--data", write(proj, "messy.csv", messy))
    assert "skipped 1 row(s) with a missing target" in out
    assert "dropped 4 column(s)" in out
    for line in [
        "customer_id: looks like an ID",
        "constant: the same value (7) on every row",
        "empty: no values",
        "comment: looks like an ID or free text",
    ]:
        assert line in out
    assert (
        "column 'signup' holds dates: features ['year', 'month', 'day', 'weekday', 'hour']" in out
    )
    assert "mean_texture (" in out and "mean_area (" in out and "city (" in out
    columns = checkpoint(proj)["preprocessing"]["features"]["columns"]
    assert {"customer_id", "constant", "empty", "comment"}.isdisjoint(columns)
    assert columns["city"]["type"] == "categorical"
    assert columns["city"]["categories"] == ["Lyon", "Paris"]
    assert columns["signup"]["type"] == "date"
    assert columns["mean_texture"]["type"] == "numeric"
    # Statistics are plain finite numbers, fit without the inf values.
    assert all(np.isfinite(columns["mean_texture"]["stats"]))

    # predict.py: an unseen category and missing values are handled, not a crash.
    new = pd.read_csv(proj / "data/messy.csv").head(5)
    new.loc[0, "city"], new.loc[1, "mean_radius"] = "Tokyo", None
    new.drop(columns=[TARGET, "customer_id", "comment"]).to_csv(proj / "new.csv", index=False)
    result = run_script(proj, "predict.py", "--input", "new.csv", "--output", "p.csv")
    assert len(pd.read_csv(proj / "p.csv")) == 5, result.stdout

    # ... while a feature column the model was trained with is a clear error.
    new.drop(columns=["city"]).to_csv(proj / "new.csv", index=False)
    result = run_script(proj, "predict.py", "--input", "new.csv", check=False)
    assert result.returncode != 0
    assert result.stderr.strip() == "error: new.csv: missing feature column(s) ['city']"


def test_column_types_override_and_strict_data(project) -> None:
    proj = project(**BINARY)
    data = write(proj, "x.csv", lambda f: f.assign(zip_code=np.arange(len(f)) % 3 + 75001))
    out, _ = train(proj, "--data", data, "--column-types", "zip_code:categorical,mean_area:drop")
    columns = checkpoint(proj)["preprocessing"]["features"]["columns"]
    assert columns["zip_code"] == {
        "type": "categorical",
        "fill": "75001",
        "categories": ["75001", "75002", "75003"],
    }
    assert "mean_area" not in columns
    shutil.rmtree(proj / "runs")

    _, err = train(proj, "--data", data, "--column-types", "zip_code:text", ok=False)
    assert "--column-types 'zip_code:text': expected NAME:TYPE" in err
    _, err = train(proj, "--column-types", "nope:numeric", ok=False)
    assert f"{SAMPLE} has no feature column 'nope'" in err
    constant = write(proj, "c.csv", lambda f: f.assign(constant=1))
    _, err = train(proj, "--data", constant, "--strict-data", ok=False)
    assert "dropped 1 column(s)" in err and "(stopping: --strict-data)" in err


def test_semicolon_file_with_decimal_commas(project) -> None:
    proj = project(**BINARY)
    frame = pd.read_csv(proj / SAMPLE)
    frame.to_csv(proj / "data/semi.csv", index=False, sep=";", decimal=",")
    out, _ = train(proj, "--data", "data/semi.csv")
    assert "reading ';'-separated values with decimal commas" in out
    columns = checkpoint(proj)["preprocessing"]["features"]["columns"]
    assert columns["mean_radius"]["type"] == "numeric"
    assert abs(columns["mean_radius"]["stats"][1] - frame["mean_radius"].median()) < 0.5


def test_rare_class_warns_and_trains(project) -> None:
    proj = project(**BINARY)

    def labels(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(diagnosis=np.where(np.arange(len(frame)) < 2, "rare", "common"))

    out, _ = train(proj, "--data", write(proj, "x.csv", labels))
    assert "too few samples of class(es) ['rare'] for any to land in the validation split" in out


def test_split_files_replace_the_random_split(project) -> None:
    proj = project(**BINARY)
    frame = pd.read_csv(proj / SAMPLE)
    frame.iloc[:400].to_csv(proj / "data/train.csv", index=False)
    frame.iloc[400:500].to_csv(proj / "data/val.csv", index=False)
    frame.iloc[500:].to_csv(proj / "data/test.csv", index=False)
    args = [
        "--data",
        "data/train.csv",
        "--val-data",
        "data/val.csv",
        "--test-data",
        "data/test.csv",
    ]
    out, _ = train(proj, *args)
    assert "400 train / 100 val / 69 test samples" in out
    result = run_script(proj, "eval.py", "--run", "runs/t")
    assert "on 69 test samples" in result.stdout


def test_regression_targets_are_standardized_then_unscaled(project) -> None:
    proj = project(task="regression", input="tabular")
    train(proj)
    state = checkpoint(proj)["preprocessing"]["targets"]
    raw = pd.read_csv(proj / "data/diabetes.csv")[state["columns"][0]]
    assert abs(state["mean"][0] - raw.mean()) < 0.1 * raw.std()  # training split statistics
    run_script(proj, "predict.py", "--input", "data/diabetes.csv", "--output", "p.csv")
    predicted = pd.read_csv(proj / "p.csv").iloc[:, 1]
    assert abs(predicted.mean() - raw.mean()) < 0.5 * raw.std()  # back in the target's units


@pytest.mark.skipif(
    not __import__("importlib").util.find_spec("pyarrow"), reason="pyarrow not installed"
)
def test_parquet(project) -> None:
    proj = project(**BINARY)
    pd.read_csv(proj / SAMPLE).to_parquet(proj / "data/x.parquet")
    train(proj, "--data", "data/x.parquet")


# ---------------------------------------------------------------------------------------------
# Images


def broken_copy(proj: Path) -> Path:
    """The digits folder with a corrupt image, a truncated one, a text file and an empty class."""
    folder = proj / "data/broken"
    shutil.copytree(proj / "data/digits", folder)
    (folder / "3/corrupt.png").write_bytes(b"not a png")
    good = sorted((folder / "4").glob("*.png"))[0].read_bytes()
    (folder / "4/truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "5/notes.txt").write_text("not an image")
    (folder / "empty_class").mkdir()
    return folder


def test_unreadable_images_are_skipped_by_path_or_stop_with_strict(project) -> None:
    proj = project(task="image")
    broken_copy(proj)
    out, _ = train(proj, "--data", "data/broken")
    assert "data/broken/3/corrupt.png: cannot read the image" in out
    assert "data/broken/4/truncated.png: cannot read the image (image file is truncated)" in out
    assert "data/broken/5/notes.txt" in out
    assert "skipped class folder(s) with no images: ['empty_class']" in out
    assert "220 train / 40 val / 40 test samples" in out  # the 300 good images
    preprocessing = checkpoint(proj)["preprocessing"]
    assert preprocessing["features"]["mode"] == "L"  # unreadable files do not decide the mode
    assert preprocessing["targets"]["classes"] == [str(d) for d in range(10)]
    shutil.rmtree(proj / "runs")
    _, err = train(proj, "--data", "data/broken", "--strict-data", ok=False)
    assert "(stopping: --strict-data)" in err


def test_image_folder_without_images(project) -> None:
    proj = project(task="image")
    (proj / "data/none/a").mkdir(parents=True)
    (proj / "data/none/a/readme.txt").write_text("x")
    _, err = train(proj, "--data", "data/none", ok=False)
    assert err.strip() == (
        "error: data/none: no images in class sub-folders (expected data/none/CLASS/IMAGE)"
    )


def test_image_csv_pointing_at_a_missing_file(project) -> None:
    proj = project(task="image")
    paths = sorted((proj / "data/digits").rglob("*.png"))
    rows = [(str(p.relative_to(proj / "data")), p.parent.name) for p in paths]
    frame = pd.DataFrame([*rows, ("digits/0/missing.png", "0")], columns=["path", "digit"])
    frame.to_csv(proj / "data/list.csv", index=False)
    out, _ = train(proj, "--data", "data/list.csv", "--target", "digit")
    assert "skipped 1 unreadable image(s)" in out
    assert "data/digits/0/missing.png: image file not found" in out
    shutil.rmtree(proj / "runs")
    _, err = train(proj, "--data", "data/list.csv", "--target", "digit", "--strict-data", ok=False)
    assert "missing.png: image file not found (stopping: --strict-data)" in err


def test_images_beyond_the_cache_limit_stream_through_workers(project) -> None:
    """--cache-mb 0: images are decoded each epoch by DataLoader workers; the run trains,
    evaluates and predicts like the in-memory one."""
    proj = project(task="image")
    out, _ = train(proj, "--cache-mb", "0", "--workers", "2", "--epochs", "2")
    assert "300 images exceed --cache-mb 0: decoding them every epoch" in out
    assert "220 train / 40 val / 40 test samples" in out
    run_script(proj, "eval.py", "--run", "runs/t")
    run_script(proj, "predict.py", "--run", "runs/t", "--input", "data/digits/7")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--cache-mb", "-1"], "cache_mb must be >= 0"),
        (["--workers", "-1"], "workers must be >= 0"),
        (["--data", "data/nowhere"], "data/nowhere: no such folder or file"),
        (["--val-data", "data/nowhere"], "data/nowhere: no such folder or file"),
    ],
)
def test_bad_image_flags_fail_with_one_line(project, args: list[str], message: str) -> None:
    _, err = train(project(task="image"), *args, ok=False)
    assert message in err


def test_predict_on_unreadable_images_fails_or_skips_by_path(project) -> None:
    proj = project(task="image")
    train(proj)
    broken = broken_copy(proj)
    (proj / "bad").mkdir()
    (proj / "bad/a.png").write_bytes(b"not a png")
    (proj / "bad/b.png").write_bytes(b"nor this")
    (proj / "no_images").mkdir()
    (proj / "no_images/readme.txt").write_text("x")
    errors = {
        "nowhere.png": "error: nowhere.png: no such file or folder",
        "bad/a.png": "error: bad/a.png: cannot read the image",
        "bad": "error: bad: no readable images",
        "no_images": "error: no_images: no image files found",
    }
    for given, message in errors.items():
        result = run_script(proj, "predict.py", "--input", given, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().startswith(message), result.stderr
    result = run_script(proj, "predict.py", "--input", str(broken), "--output", "p.csv")
    assert "skipped 2 unreadable image(s)" in result.stdout
    assert "broken/3/corrupt.png: cannot read the image" in result.stdout
    assert len(pd.read_csv(proj / "p.csv")) == 300  # the readable ones
