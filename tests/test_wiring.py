"""Per task: the rendered model, loss and targets follow the task table; the model returns raw
scores (no activation before the loss) and activations appear only at prediction time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import COMBOS, probe

EXPECTED = {
    # task: (loss class, target dtype, target is 2-D)
    "regression": ("MSELoss", "float32", True),
    "binary": ("BCEWithLogitsLoss", "float32", True),
    "multiclass": ("CrossEntropyLoss", "int64", False),
    "multilabel": ("BCEWithLogitsLoss", "float32", True),
}
HEAD_SIZE = {  # outputs per sample for each sample dataset
    ("regression", "tabular"): 1,
    ("binary", "tabular"): 1,
    ("multiclass", "tabular"): 3,
    ("multilabel", "tabular"): 3,
    ("regression", "image"): 1,
    ("binary", "image"): 1,
    ("multiclass", "image"): 10,
    ("multilabel", "image"): 3,
    ("regression", "text"): 1,
    ("binary", "text"): 1,
    ("multiclass", "text"): 3,
    ("multilabel", "text"): 3,
}


@pytest.mark.parametrize("task,input", COMBOS)
def test_loss_head_and_target_follow_the_task_table(pristine, task: str, input: str) -> None:
    info = probe(pristine(task=task, input=input), "wiring")
    loss, dtype, two_d = EXPECTED[task]
    assert info["loss"] == loss
    assert info["head_size"] == info["n_names"] == HEAD_SIZE[task, input]
    assert info["target_dtype"] == dtype
    assert len(info["target_shape"]) == (2 if two_d else 1)
    if two_d:
        assert info["target_shape"][1] == HEAD_SIZE[task, input]


@pytest.mark.parametrize("task,input", COMBOS)
def test_model_outputs_logits_not_probabilities(pristine, task: str, input: str) -> None:
    info = probe(pristine(task=task, input=input), "wiring")
    assert info["activation_modules"] == []
    assert info["last_layer"] == "Linear"
    if task == "multiclass":
        assert not info["row_sums_to_one"]
    assert info["shifted_min"] > 1  # raw scores, not squashed into [0, 1]


ACTIVATION_CALLS = {"softmax", "sigmoid", "log_softmax"}


def activation_calls(path: Path) -> dict[str, set[str]]:
    """Function name -> activation functions called inside it."""
    found: dict[str, set[str]] = {}
    tree = ast.parse(path.read_text())
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in ACTIVATION_CALLS:
                        found.setdefault(fn.name, set()).add(name)
    return found


@pytest.mark.parametrize("task,input", COMBOS)
def test_activation_only_at_prediction_time(pristine, task: str, input: str) -> None:
    root = pristine(task=task, input=input)
    for name in ("train.py", "model.py", "data_loader.py", "preprocessing.py", "utils.py"):
        assert activation_calls(root / name) == {}, name
    expected = {
        "regression": {},
        "binary": {"predict": {"sigmoid"}},
        "multiclass": {"predict": {"softmax"}},
        "multilabel": {"predict": {"sigmoid"}},
    }[task]
    assert activation_calls(root / "task.py") == expected
