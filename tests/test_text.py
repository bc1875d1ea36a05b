"""Text projects (issue 17): the tokenizer and vocabulary fit on the training split only, unknown
words at prediction time, both models, and bad text input answered in one line.

Training, eval, predict, resume and torchrun for every task x text are in the shared matrix
(tests/test_training.py, tests/test_wiring.py); accuracy against TF-IDF + a linear model is
benchmarks/text_accuracy.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.conftest import run_script

FAST = ["--epochs", "1", "--device", "cpu", "--run-name", "t"]
TEXT = {"task": "multiclass", "input": "text"}

VOCABULARY = """
import json

from config import Config
from data_loader import load_data
from preprocessing import UNKNOWN, Preprocessing, words

cfg = Config.from_dict({"data": "data/t.csv", "target": ["label"], "min_count": 1})
splits = load_data(cfg)
pre = Preprocessing.fit(splits.train, cfg)
train_words = {w for t in splits.train.table["text"] for w in words(t)}
held_out = {w for t in splits.test.table["text"] for w in words(t)}
x = pre.transform(splits.test.table["text"], splits.test.path)
print(json.dumps({
    "tokens": words("Great phone, 10/10! 😀 这很好 Ünïcode ok"),
    "vocabulary": pre.vocabulary,
    "only_held_out": sorted(held_out - train_words),
    "unknown_ids": int((x == UNKNOWN).sum()),
    "pairs": [t for t in pre.vocabulary if " " in t][:3],
    "shape": list(x.shape),
    "longest": max(len(words(t)) for t in splits.test.table["text"]),
}))
"""


def ok(project: Path, *args: str) -> tuple[str, str]:
    result = run_script(project, *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, result.stderr


def refused(project: Path, *args: str) -> str:
    """The one error line of a command that must fail."""
    result = run_script(project, *args, check=False)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write(project: Path, rows: list[tuple[str, str]], name: str = "t.csv") -> str:
    """A labelled text file in data/ (by pandas: quoting as a spreadsheet writes it)."""
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(project / "data" / name, index=False)
    return f"data/{name}"


def reviews(n: int = 120, latin: bool = False) -> list[tuple[str, str]]:
    """Short texts whose label a word decides, with words of several scripts and emoji (or
    Latin letters only)."""
    good = ["great battery 😀", "love this phone", "très bien", "这很好 works", "excellent screen"]
    bad = ["broke after a week 😡", "awful sound", "très mauvais", "很差 returned", "poor screen"]
    if latin:
        good, bad = [t for t in good if t.isascii()], [t for t in bad if t.isascii()]
    return [
        (f"{(good if i % 2 else bad)[i % len(good)]} review {i}", "good" if i % 2 else "bad")
        for i in range(n)
    ]


def test_vocabulary_comes_from_the_training_split_only(project) -> None:
    root = project(**TEXT)
    write(root, reviews())
    (root / "vocab.py").write_text(VOCABULARY)
    out = json.loads(ok(root, "vocab.py")[0].strip().splitlines()[-1])
    # Lower-cased words of any script, numbers, punctuation and emoji; CJK by character.
    assert out["tokens"] == [
        "great", "phone", ",", "10", "/", "10", "!", "😀", "这", "很", "好", "ünïcode", "ok"
    ]  # fmt: skip
    assert out["vocabulary"][:2] == ["<pad>", "<unknown>"]
    # Words seen only in the test texts (review numbers) are not in it, and read as unknown;
    # the bag model's vocabulary also holds word pairs.
    assert out["only_held_out"] and not set(out["only_held_out"]) & set(out["vocabulary"])
    assert out["unknown_ids"] >= len(out["only_held_out"])
    assert out["pairs"] and all(len(p.split(" ")) == 2 for p in out["pairs"])
    # Padded to the longest text of the split: its words and their known pairs.
    assert out["longest"] < out["shape"][1] <= 2 * out["longest"] - 1


def test_a_trained_run_predicts_new_texts_with_unknown_words(project, tmp_path: Path) -> None:
    root = project(**TEXT)
    data = write(root, reviews())
    ok(root, "train.py", *FAST, "--epochs", "20", "--data", data, "--target", "label")
    saved = torch.load(root / "runs/t/best.pt", weights_only=True)["preprocessing"]["features"]
    assert isinstance(saved["vocabulary"][2], str) and isinstance(saved["idf"][2], float)
    new = tmp_path / "new.csv"
    new.write_text(
        "text\nlove this phone so much\nawful sound never again\nqwertyuiop zxcvbnm\n"
        '""\n🎉🎉\nتجربة رائعة\n'
    )
    stdout, _ = ok(root, "predict.py", "--input", str(new), "--output", str(tmp_path / "p.csv"))
    assert "skipped 1 row(s) with an empty 'text'" in stdout  # line 5
    table = pd.read_csv(tmp_path / "p.csv")
    assert table["line"].tolist() == [2, 3, 4, 6, 7]  # unknown words, emoji, Arabic: predicted
    assert table["prediction"].tolist()[:2] == ["good", "bad"]
    # A file without the run's text column: the error names it (predict.py has no such flag).
    (tmp_path / "other.csv").write_text("review\nnice\n")
    line = refused(root, "predict.py", "--input", str(tmp_path / "other.csv"))
    assert "no text column 'text' (the run's --text-column); its columns are 'review'" in line


@pytest.mark.parametrize(
    "rows,flags,message",
    [
        ([("a", "x")] * 30, ["--text-column", "review"], "no text column 'review' (--text-column)"),
        ([(str(i * 1.5), "x") for i in range(30)], [], "holds numbers (0.0), not texts"),
        ([("", "x"), (" ", "y")] * 15, [], "column 'text' has no texts, only empty cells"),
        (
            [("", "bad"), *reviews(60)],
            ["--strict-data"],
            "skipped 1 row(s) with an empty 'text'; line 2 (stopping: --strict-data)",
        ),
        ([("a", "x")] * 30, ["--max-tokens", "0"], "max_tokens must be >= 1"),
        ([("a", "x")] * 30, ["--heads", "3"], "heads must divide embedding_dim"),
        ([("a", "x")] * 30, ["--target", "text"], "'text' is the text column (--text-column)"),
    ],
    ids=["missing-column", "numbers", "all-empty", "strict-empty", "max-tokens", "heads", "target"],
)
def test_bad_text_input_gets_one_line(project, rows, flags: list[str], message: str) -> None:
    root = project(**TEXT)
    data = write(root, rows)
    line = refused(root, "train.py", *FAST, "--data", data, "--target", "label", *flags)
    assert line.startswith("error: ") and message in line, line
    assert not (root / "runs" / "t" / "last.pt").exists()


def test_messy_texts_train_with_notes(project) -> None:
    """Empty and missing texts are skipped with a count, long texts cut with a note, "NA" is a
    text, and a file that is not UTF-8 is read as cp1252 with a note."""
    root = project(**TEXT)
    rows = [("", "bad"), ("NA", "bad"), (" ".join(["long"] * 40), "good"), *reviews(60, True)]
    frame = pd.DataFrame(rows, columns=["text", "label"])
    frame.loc[len(frame)] = [None, "good"]
    frame.loc[len(frame)] = ["café crème", "good"]
    (root / "data" / "t.csv").write_bytes(frame.to_csv(index=False).encode("cp1252"))
    stdout, _ = ok(
        root, "train.py", *FAST, "--data", "data/t.csv", "--target", "label", "--max-tokens", "20"
    )
    assert "is not UTF-8" in stdout and "reading it as cp1252" in stdout
    assert "warning: data/t.csv: skipped 2 row(s) with an empty 'text'" in stdout
    assert "longer than --max-tokens 20 words: using their beginning" in stdout
    # 65 rows less the 2 without a text: "NA" is a text, not a missing value.
    counts = re.search(r"(\d+) train / (\d+) val / (\d+) test samples", stdout)
    assert counts and sum(map(int, counts.groups())) == 63, stdout
