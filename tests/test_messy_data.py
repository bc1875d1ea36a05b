"""No silent wrong results: messy real data, changed data files and interrupted runs.

Each case is run the way a user runs it. It either trains on the right numbers (with a note
saying what was detected) or stops with one line naming the file, column or row and the way
out, and leaves what was written before (runs, checkpoints) untouched.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageOps

from tests.conftest import run_script

FAST = ["--epochs", "1", "--device", "cpu", "--run-name", "t"]
BINARY = {"task": "binary", "input": "tabular"}
IMAGE = {"task": "multiclass", "input": "image"}


def ok(project: Path, *args: str) -> tuple[str, str]:
    result = run_script(project, *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, result.stderr


def refused(project: Path, *args: str, fresh: bool = False) -> str:
    """The one error line of a command that must fail."""
    result = run_script(project, *args, check=False, fresh=fresh)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "np.float" not in lines[0] and "np.int" not in lines[0], lines[0]
    return lines[0]


def checkpoint(project: Path, run: str = "t") -> dict:
    return torch.load(project / f"runs/{run}/last.pt", map_location="cpu", weights_only=True)


def columns(project: Path) -> dict:
    return checkpoint(project)["preprocessing"]["features"]["columns"]


def classes(project: Path) -> list[str]:
    return checkpoint(project)["preprocessing"]["targets"]["classes"]


def python(project: Path, code: str) -> dict:
    """Run `code` in the project (its modules importable); it prints one JSON line."""
    (project / "snippet.py").write_text(code)
    stdout, _ = ok(project, "snippet.py")
    return json.loads(stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Images: bit depth, orientation, decompression bombs


def test_16_bit_images_decode_like_their_8_bit_originals_and_learn(project) -> None:
    proj = project(**IMAGE)
    first = sorted((proj / "data/digits").rglob("*.png"))[0]
    shutil.copy(first, proj / "original.png")
    for path in sorted((proj / "data/digits").rglob("*.png")):
        pixels = np.asarray(Image.open(path).convert("L"), dtype=np.uint16)
        Image.fromarray(pixels * 257).save(path)  # I;16: the same image over 0..65535
    assert Image.open(first).mode.startswith("I")
    found = python(
        proj,
        "import json\nfrom images import Decoder\nd = Decoder(16, 'L')\n"
        f"wide, narrow = d.decode({str(first)!r}), d.decode('original.png')\n"
        "print(json.dumps({'gap': int((wide.int() - narrow.int()).abs().max()),"
        " 'max': int(wide.max())}))\n",
    )
    assert found["gap"] <= 1 and found["max"] > 100  # the same image, not solid white
    ok(proj, "train.py", "--epochs", "6", "--device", "cpu", "--run-name", "t")
    log = pd.read_csv(proj / "runs/t/metrics.csv")
    assert log["val_accuracy"].max() > 0.5, log  # chance is 0.1


def test_exif_orientation_is_applied_in_training_and_prediction(project) -> None:
    proj = project(**IMAGE)
    upright = np.zeros((16, 8), dtype=np.uint8)
    upright[:4] = 255  # a bar at the top of a tall image
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # as a camera stores it
    exif = stored.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    stored.save(proj / "tagged.png", exif=exif)
    assert ImageOps.exif_transpose(Image.open(proj / "tagged.png")).size == (8, 16)
    Image.fromarray(upright).save(proj / "upright.png")
    Image.open(proj / "tagged.png").save(proj / "untagged.png")  # the stored pixels, no tag
    found = python(
        proj,
        "import json\nfrom images import Decoder\nd = Decoder(16, 'L')\n"
        "t, u, s = (d.decode(f'{n}.png') for n in ('tagged', 'upright', 'untagged'))\n"
        "print(json.dumps({'upright': bool((t == u).all()), 'stored': bool((t == s).all())}))\n",
    )
    assert found == {"upright": True, "stored": False}


def huge_png(path: Path, side: int = 100_000) -> None:
    """A tiny file whose header claims side x side pixels: Pillow refuses it on open."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_skipped_by_name_or_stops_with_strict_data(project) -> None:
    proj = project(**IMAGE)
    huge_png(proj / "data/digits/3/huge.png")
    stdout, _ = ok(proj, "train.py", *FAST)
    assert "skipped 1 unreadable image(s)" in stdout and "huge.png" in stdout
    assert "pixels" in stdout
    shutil.rmtree(proj / "runs")
    line = refused(proj, "train.py", *FAST, "--strict-data")
    assert "huge.png" in line


# ---------------------------------------------------------------------------------------------
# A data file that changed after training


def test_eval_and_resume_refuse_a_data_file_that_changed_since_training(project) -> None:
    proj = project(**BINARY)
    data = proj / "data/breast_cancer.csv"
    original = data.read_bytes()
    ok(proj, "train.py", *FAST)
    ok(proj, "eval.py", "--run", "runs/t")
    frame = pd.read_csv(data)
    other = proj / "data/more.csv"
    frame.sample(frac=0.3, random_state=1).to_csv(other, index=False)
    changes = {
        "re-ordered": lambda: frame.sample(frac=1, random_state=0).to_csv(data, index=False),
        "appended": lambda: pd.concat([frame, frame.head(5)]).to_csv(data, index=False),
        "edited": lambda: frame.assign(mean_radius=frame.mean_radius + 0.01).to_csv(
            data, index=False
        ),
    }
    for change in changes.values():
        change()
        line = refused(proj, "eval.py", "--run", "runs/t")
        assert "data/breast_cancer.csv changed since" in line and "--test-data" in line, line
        stdout, _ = ok(proj, "eval.py", "--run", "runs/t", "--test-data", "data/more.csv")
        assert f"on {len(pd.read_csv(other))} test samples" in stdout
        ok(proj, "predict.py", "--run", "runs/t", "--input", "data/more.csv")
    before = (proj / "runs/t/last.pt").read_bytes()
    line = refused(proj, "train.py", "--resume", "--run", "runs/t", "--epochs", "2")
    assert "changed since" in line, line
    assert (proj / "runs/t/last.pt").read_bytes() == before
    data.write_bytes(original)
    ok(proj, "eval.py", "--run", "runs/t")


# ---------------------------------------------------------------------------------------------
# Reading tables


def test_labels_pandas_reads_as_missing_are_classes_unless_named(project) -> None:
    proj = project(task="multiclass", input="tabular")
    frame = pd.read_csv(proj / "data/wine.csv")
    frame["cultivar"] = frame["cultivar"].replace({"class_1": "NA"}).astype(object)
    frame.loc[3, "cultivar"] = None  # a truly empty cell
    frame.to_csv(proj / "data/x.csv", index=False)
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert classes(proj) == ["NA", "class_0", "class_2"]
    assert "skipped 1 row(s) with a missing target (empty cells)" in stdout
    shutil.rmtree(proj / "runs")
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/x.csv", "--missing-target", "NA")
    assert classes(proj) == ["class_0", "class_2"]
    assert "(empty cells, 'NA')" in stdout


def test_a_regression_target_of_na_text_is_refused_with_the_way_out(project) -> None:
    proj = project(task="regression", input="tabular")
    frame = pd.read_csv(proj / "data/diabetes.csv").astype({"progression": object})
    frame.loc[10, "progression"] = "n/a"
    frame.loc[20, "progression"] = np.inf
    frame.to_csv(proj / "data/x.csv", index=False)
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert "line 12: 'n/a' is not a finite number" in line and "--missing-target n/a" in line
    frame.loc[10, "progression"] = 150
    frame.to_csv(proj / "data/x.csv", index=False)
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert "line 22: inf is not a finite number" in line and "--missing-target" not in line, line


def test_duplicate_column_names_are_an_error_and_spaced_headers_are_read(project) -> None:
    proj = project(**BINARY)
    lines = (proj / "data/breast_cancer.csv").read_text().splitlines()
    header = lines[0].split(",")
    doubled = [*header[:3], "diagnosis", *header[4:]]
    (proj / "data/x.csv").write_text("\n".join([",".join(doubled), *lines[1:]]) + "\n")
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert "column 'diagnosis' appears 2 times" in line, line
    (proj / "data/y.csv").write_text("\n".join([", ".join(header), *lines[1:]]) + "\n")
    ok(proj, "train.py", *FAST, "--data", "data/y.csv")
    assert "mean_radius" in columns(proj)


def test_labels_that_differ_only_by_case_or_spaces_are_named(project) -> None:
    proj = project(task="multiclass", input="tabular")
    frame = pd.read_csv(proj / "data/wine.csv")
    names = {"class_0": "Yes", "class_1": " yes", "class_2": "YES "}
    frame.assign(cultivar=frame.cultivar.map(names)).to_csv(proj / "data/x.csv", index=False)
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert "differ only by case" in stdout and "'YES', 'Yes', 'yes'" in stdout, stdout
    shutil.rmtree(proj / "runs")
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv", "--strict-data")
    assert "differ only by case" in line


def test_binary_labels_that_differ_only_by_case_are_named_before_the_error(project) -> None:
    proj = project(**BINARY)
    frame = pd.read_csv(proj / "data/breast_cancer.csv")
    frame.loc[::7, "diagnosis"] = frame.loc[::7, "diagnosis"].str.upper()
    frame.to_csv(proj / "data/x.csv", index=False)
    result = run_script(proj, "train.py", *FAST, "--data", "data/x.csv", check=False)
    assert result.returncode != 0 and "has 4 class(es)" in result.stderr, result.stderr
    assert "'BENIGN', 'benign'" in result.stdout and "differ only by case" in result.stdout


def test_thousands_separators_are_read_as_numbers(project) -> None:
    proj = project(**BINARY)
    frame = pd.read_csv(proj / "data/breast_cancer.csv")
    area = frame["mean_area"] * 10
    frame["mean_area"] = [f"{v:,.1f}" for v in area]  # 1,001.0 (quoted in the CSV)
    frame.to_csv(proj / "data/x.csv", index=False)
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/x.csv")
    assert columns(proj)["mean_area"]["type"] == "numeric"
    assert "thousands separators" in stdout
    median = columns(proj)["mean_area"]["stats"][0]
    assert abs(median - area.median()) < 0.1 * area.median()
    frame.loc[5, "mean_area"] = "about 500"
    frame.to_csv(proj / "data/x.csv", index=False)
    shutil.rmtree(proj / "runs")
    override = ["--column-types", "mean_area:numeric"]
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv", *override)
    assert "'about 500'" in line and ":categorical" not in line, line


def semicolon_decimal_comma(project: Path) -> bytes:
    frame = pd.read_csv(project / "data/breast_cancer.csv")
    return frame.to_csv(index=False, sep=";", decimal=",").encode()


def test_compressed_files_are_sniffed_after_decompression(project) -> None:
    proj = project(**BINARY)
    text = semicolon_decimal_comma(proj)
    (proj / "data/x.csv.gz").write_bytes(gzip.compress(text))
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/x.csv.gz")
    assert "';'-separated values with decimal commas" in stdout
    assert columns(proj)["mean_radius"]["type"] == "numeric"
    (proj / "data/x.csv.bz2").write_bytes(bz2.compress(text))
    (proj / "data/x.csv.xz").write_bytes(lzma.compress(text))
    with zipfile.ZipFile(proj / "data/x.csv.zip", "w") as archive:
        archive.writestr("x.csv", text)
    found = python(
        proj,
        "import json\nfrom pathlib import Path\nfrom tables import read_table\n"
        "kinds = {s: str(read_table(Path('data/x.csv.' + s))['mean_radius'].dtype)"
        " for s in ('bz2', 'xz', 'zip')}\nprint(json.dumps(kinds))\n",
    )
    assert found == {"bz2": "float32", "xz": "float32", "zip": "float32"}


def test_files_that_are_not_tables_say_what_they_are(project) -> None:
    proj = project(**BINARY)
    with zipfile.ZipFile(proj / "data/book.xlsx", "w") as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
    line = refused(proj, "train.py", *FAST, "--data", "data/book.xlsx")
    assert "Excel" in line and "CSV" in line, line
    shutil.copy(proj / "data/book.xlsx", proj / "data/renamed.csv")
    line = refused(proj, "train.py", *FAST, "--data", "data/renamed.csv")
    assert "Excel" in line or "zip" in line, line
    line = refused(proj, "train.py", *FAST, "--data", "data")
    assert "is a folder" in line, line


def test_files_that_are_not_utf8_are_read_or_refused_with_the_encoding_flag(project) -> None:
    proj = project(**BINARY)
    frame = pd.read_csv(proj / "data/breast_cancer.csv")
    frame["region"] = np.where(np.arange(len(frame)) % 2, "Île-de-France", "Rhône")
    frame.to_csv(proj / "data/latin.csv", index=False, encoding="cp1252")
    stdout, _ = ok(proj, "train.py", *FAST, "--data", "data/latin.csv")
    assert "not UTF-8" in stdout and "cp1252" in stdout
    assert "Rhône" in columns(proj)["region"]["categories"]
    shutil.rmtree(proj / "runs")
    frame.to_csv(proj / "data/wide.csv", index=False, encoding="utf-16")  # Excel's "Unicode text"
    ok(proj, "train.py", *FAST, "--data", "data/wide.csv")
    assert "Île-de-France" in columns(proj)["region"]["categories"]
    shutil.rmtree(proj / "runs")
    line = refused(proj, "train.py", *FAST, "--data", "data/latin.csv", "--encoding", "utf-8")
    assert "not utf-8" in line.lower() and "--encoding" in line and "line " in line, line


def test_multilabel_label_lists_in_one_column_get_the_expected_format(project) -> None:
    proj = project(task="multilabel", input="tabular")
    frame = pd.read_csv(proj / "data/digits_pixels.csv")
    labels = frame[["even", "prime", "greater_than_4"]]
    tags = labels.apply(lambda row: "|".join(c for c in labels.columns if row[c]), axis=1)
    frame.drop(columns=labels.columns).assign(tags=tags).to_csv(proj / "data/x.csv", index=False)
    line = refused(proj, "train.py", *FAST, "--data", "data/x.csv", "--target", "tags")
    assert "one 0/1 column per label" in line and "str.get_dummies" in line, line
    frame.loc[7, "prime"] = 2
    frame.to_csv(proj / "data/y.csv", index=False)
    line = refused(proj, "train.py", *FAST, "--data", "data/y.csv")
    assert "line 9: 2 is not 0 or 1" in line, line


# ---------------------------------------------------------------------------------------------
# Commands that stop early


def test_predict_output_into_a_new_folder_is_created(project) -> None:
    proj = project(**BINARY)
    ok(proj, "train.py", *FAST)
    ok(proj, "predict.py", "--input", "data/breast_cancer.csv", "--output", "out/new/p.csv")
    assert len(pd.read_csv(proj / "out/new/p.csv")) == len(
        pd.read_csv(proj / "data/breast_cancer.csv")
    )
    line = refused(proj, "predict.py", "--input", "data/breast_cancer.csv", "--output", "out")
    assert "is a folder" in line, line


INTERRUPT = """
import runpy, sys
import run_state

calls = []
save = run_state.RunState.save


def interrupting(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == {at}:
        raise KeyboardInterrupt
    return save(self, *args, **kwargs)


run_state.RunState.save = interrupting
sys.argv = ["train.py", *sys.argv[1:]]
runpy.run_path("train.py", run_name="__main__")
"""


@pytest.mark.parametrize("at", [1, 2])
def test_ctrl_c_names_the_run_and_whether_anything_was_saved(project, at: int) -> None:
    proj = project(**BINARY)
    (proj / "interrupt.py").write_text(INTERRUPT.replace("{at}", str(at)))
    args = ["--epochs", "3", "--device", "cpu", "--run-name", "t"]
    line = refused(proj, "interrupt.py", *args, fresh=True)
    if at == 1:  # during the first save: no checkpoint yet
        assert "runs/t" in line and "nothing was saved yet" in line, line
        assert "--resume" not in line
        ok(proj, "train.py", *args)  # the same command starts it again
    else:
        assert "continue with `python train.py --resume --run runs/t`" in line, line
        ok(proj, "train.py", "--resume", "--run", "runs/t")
