"""generated_examples/ is exactly what the template renders today."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

from generate_examples import EXAMPLES, differences, render_examples  # noqa: E402


def test_generated_examples_are_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "generated_examples"
    render_examples(fresh)
    diff = differences(fresh, REPO / "generated_examples")
    assert not diff, (
        f"generated_examples/ is out of date ({diff[:5]}...): "
        "run `python scripts/generate_examples.py`"
    )


def test_one_example_per_task_and_per_other_input_type() -> None:
    names = {p.name for p in (REPO / "generated_examples").iterdir() if p.is_dir()}
    tasks = {"regression", "binary", "multiclass", "multilabel"}
    assert names == set(EXAMPLES) == tasks | {"image", "text"}
