"""Render one example project per task, and an image and a text one, into generated_examples/.

    python scripts/generate_examples.py          # rewrite generated_examples/
    python scripts/generate_examples.py --check  # exit 1 if they are out of date

The examples are exactly what `scaffold new <name> --task <task> --yes --no-git` writes, except
that their .copier-answers.yml leaves out `_src_path` and `_commit` (the template store and the
template version, which is VERSION+unreleased.TREE while a checkout has unreleased template
edits), so they do not change with every template edit.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold.render import ANSWERS_FILE, create_project  # noqa: E402

OUT = REPO / "generated_examples"
IGNORED = [".ruff_cache", ".pytest_cache", "__pycache__", "runs"]  # what tools leave behind
EXAMPLES = {
    "regression": {"task": "regression", "input": "tabular"},
    "binary": {"task": "binary", "input": "tabular"},
    "multiclass": {"task": "multiclass", "input": "tabular"},
    "multilabel": {"task": "multilabel", "input": "tabular"},
    "image": {"task": "image"},
    "text": {"task": "multiclass", "input": "text"},
}
README = """# Generated examples

One project per task (tabular input), an image project and a text project, rendered from the
template with default answers by

    python scripts/generate_examples.py

`tests/test_examples.py` fails when they are out of date with the template. Their
`.copier-answers.yml` leaves out `_src_path` and `_commit`; everything else is exactly what
`scaffold new <name> --task <task> --yes --no-git` writes.
"""


def render_examples(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "README.md").write_text(README)
    for name, answers in EXAMPLES.items():
        dest = out / name
        create_project(dest, {"project_name": name, **answers}, interactive=False, git=False)
        answers_file = dest / ANSWERS_FILE
        lines = answers_file.read_text().splitlines(keepends=True)
        answers_file.write_text(
            "".join(x for x in lines if not x.startswith(("_src_path", "_commit")))
        )


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees."""
    found = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        found.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found.extend(prefix + n for n in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b, ignore=IGNORED), "")
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report differences")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "generated_examples"
        render_examples(fresh)
        if args.check:
            diff = differences(fresh, OUT) if OUT.exists() else ["generated_examples/"]
            for path in diff:
                print(f"out of date: {path}")
            return 1 if diff else 0
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(fresh, OUT)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
