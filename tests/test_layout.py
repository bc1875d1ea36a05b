"""The generated project reads as the 7-step pipeline: train.py in step order, small files and
functions, one input type per project, no dead code."""

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import COMBOS

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "project"
STEPS = [
    "# 1. Load the data",
    "# 2. Preprocess",
    "# 3. Dataset and DataLoader",
    "# 4. Model",
    "# 5. Loss and optimizer",
    "# 6. Training loop",
    "# 7. Evaluation and saving",
]
# Lines of .py files in a project made by release 0.6.0, before the pipeline redesign (default
# answers). The redesign (issue 14) fits in them; a later feature adds its lines to GROWTH, by
# name, so that the project grows by choice and not by drift.
TOTAL_060 = {
    ("regression", "tabular"): 2207,
    ("regression", "image"): 2272,
    ("binary", "tabular"): 2290,
    ("binary", "image"): 2355,
    ("multiclass", "tabular"): 2264,
    ("multiclass", "image"): 2329,
    ("multilabel", "tabular"): 2209,
    ("multilabel", "image"): 2274,
}
GROWTH = {
    "issue 15: messy data (tables.py), changed data files, Ctrl-C hints": 230,
    "issue 16: baseline.py, eval.py's verdict, numeric embeddings, robust scaling": 180,
    "issue 17: baseline.py --train-only (the benchmark's same-rows baseline)": 8,
}
# Text projects arrived with issue 17 (template 0.10.0): their totals then, by task. GROWTH
# entries after issue 17's count for them too.
TOTAL_0100_TEXT = {"regression": 2481, "binary": 2572, "multiclass": 2550, "multilabel": 2490}
BEFORE_TEXT = 3  # the GROWTH entries up to issue 17's are in those totals
# Words that only code for one input type uses.
ONLY = {
    "tabular": ["max_categories", "column_types", "infer_type", "in_features"],
    "image": ["PIL", "image_size", "Decoder", "in_channels", "ImageFiles"],
    "text": ["vocabulary", "max_tokens", "text_column", "EmbeddingBag", "TextLoader"],
}


def budget(task: str, input: str) -> int:
    """The most lines of .py files a project with default answers may hold."""
    if input == "text":
        return TOTAL_0100_TEXT[task] + sum(list(GROWTH.values())[BEFORE_TEXT:])
    return TOTAL_060[task, input] + sum(GROWTH.values())


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.py"))


@pytest.mark.parametrize("task,input", COMBOS)
def test_small_files_small_functions_one_input_type(pristine, task: str, input: str) -> None:
    root = pristine(task=task, input=input)
    sizes = {p.name: len(p.read_text().splitlines()) for p in python_files(root)}
    assert max(sizes.values()) <= 300, sizes
    assert sizes["train.py"] <= 250, sizes
    assert sum(sizes.values()) <= budget(task, input), sizes
    long = []
    for path in python_files(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.name}:{node.name} {length} lines")
    assert not long
    for other in set(ONLY) - {input}:
        for path in python_files(root):
            text = path.read_text()
            found = [word for word in ONLY[other] if re.search(rf"\b{word}\b", text)]
            assert not found, f"{path.name} holds {other} code: {found}"


@pytest.mark.parametrize("task,input", COMBOS)
def test_no_dead_code(pristine, task: str, input: str) -> None:
    """Every top-level function, class and constant of the project's scripts is used by
    another line of them (the project's own tests do not count)."""
    root = pristine(task=task, input=input)
    texts = {p.name: p.read_text() for p in python_files(root)}
    unused = []
    for name, text in texts.items():
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined = [t.id for t in targets if isinstance(t, ast.Name)]
            else:
                continue
            for symbol in defined:
                uses = sum(len(re.findall(rf"\b{symbol}\b", t)) for t in texts.values())
                if uses < 2 and symbol not in ("T",):
                    unused.append(f"{name}:{symbol}")
    assert not unused, unused


def test_train_py_reads_as_the_seven_steps(pristine) -> None:
    source = TEMPLATE / "train.py"
    assert source.is_file() and not (TEMPLATE / "train.py.jinja").exists()
    assert "{{" not in source.read_text() and "{%" not in source.read_text()
    for task, input in COMBOS:
        text = (pristine(task=task, input=input) / "train.py").read_text()
        where = [text.find(step) for step in STEPS]
        assert -1 not in where and where == sorted(where), dict(zip(STEPS, where, strict=True))
        loop = text[text.index("def train_one_epoch(") :]
        loop = loop[: loop.index("\n\n\n")]
        for line in (
            "for x, y in run.progress_bar(loader):",
            "optimizer.zero_grad(set_to_none=True)",
            "logits = model(x)",
            "loss = criterion(logits, y)",
            "scaler.scale(loss).backward()",
            "scaler.step(optimizer)",
        ):
            assert line in loop, line
    # No Python module of the template holds code for two input types behind an if/else.
    allowed = {
        "utils.py",  # category_text: for tables and class labels, no if/else
        "predict.py",  # the --input help text and docstring
        "config.py",  # settings differ in values
        "test_smoke.py",  # how many rows predict.py writes for the sample data
        "eval.py",  # baseline.py's scores and the verdict: tabular only (an if, no else)
        "checkpoint_versions.py",  # OLD_DEFAULTS: the settings differ in values
        "baseline.py",  # tables and texts share the fit and scoring; features and models differ
    }
    for path in TEMPLATE.rglob("*.py*"):
        name = re.sub(r"\{%.*?%\}", "", path.stem)  # a conditional file's own name
        if path.suffix == ".jinja" and name not in allowed:
            assert "input ==" not in path.read_text(), path
