"""Never a half-written project: hostile `scaffold new` inputs, a failure in the middle of
rendering, and Ctrl-C at random moments. Each leaves either a whole project or nothing."""

from __future__ import annotations

import ast
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from tests.conftest import assert_one_line_error, record, tree

runner = CliRunner()

HOSTILE_NAMES = [
    "", "../../x", "..", ".", "a/b", "/abs/path", "~", "*", "my proj", "1abc", "_private", "a.b",
    "class", "import", "True", "None", "x" * 101, "naïve", "проект", "😀", "{{ 7*7 }}",
    "{% raw %}", "${HOME}", "$(id)", "`id`", 'x"; import os; os.system("id")', "x';", "a;b",
    "a\\b", "tab\tname", "new\nline", "nul\x00byte",
]  # fmt: skip
HOSTILE_OPTIONS = [
    ["--task", "bogus"], ["--task", ""], ["--input", "video"], ["--model", "resnet"],
    ["--optimizer", "rmsprop"], ["--scheduler", "sometimes"], ["--lr", "0"], ["--lr", "-1"],
    ["--lr", "abc"], ["--lr", "nan"], ["--lr", "inf"], ["--lr", "11"], ["--batch-size", "0"],
    ["--batch-size", "1.5"], ["--epochs", "-3"], ["--epochs", "10000000"],
    ["--task", "image", "--input", "tabular"], ["--input", "tabular", "--model", "cnn"],
    ["--input", "image", "--model", "linear"], ["--no-such-flag"],
]  # fmt: skip


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd two levels below tmp_path, so `../../x` would land inside tmp_path and show up."""
    work = tmp_path / "outer" / "work"
    work.mkdir(parents=True)
    (tmp_path / "outer" / "keep.txt").write_text("not yours to touch\n")
    taken = work / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine\n")
    (work / "afile").write_text("a file\n")
    monkeypatch.chdir(work)
    return tmp_path


def refused(args: list[str]) -> str:
    result = runner.invoke(app, ["new", *args], prog_name="scaffold")
    assert_one_line_error(result)
    assert result.exception is None or isinstance(result.exception, SystemExit), args
    return result.stderr.strip()


def test_thirty_plus_hostile_inputs_are_refused_and_write_nothing(sandbox: Path) -> None:
    cases = [[name, "--yes", "--no-git"] for name in HOSTILE_NAMES]
    cases += [["proj", *options, "--yes", "--no-git"] for options in HOSTILE_OPTIONS]
    cases += [
        ["taken", "--yes"],  # an existing, non-empty folder
        ["afile", "--yes"],  # a file
        ["p", "--dest", "afile/p", "--yes"],  # a destination inside a file
        ["p", "--dest", "taken", "--yes"],
    ]
    before = tree(sandbox)
    for args in cases:
        refused(args)
        assert tree(sandbox) == before, args
    if os.geteuid() != 0:  # root writes anywhere
        locked = sandbox / "outer" / "work" / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            refused(["p", "--dest", str(locked / "p"), "--yes"])
        finally:
            locked.chmod(0o700)
        cases.append(["p", "--dest", "locked/p"])
    assert len(cases) >= 30
    record(inputs=len(cases))


@pytest.mark.parametrize("name", ["A" * 100, "my-proj_2", "Z9", "import_", "os_system"])
def test_accepted_odd_names_render_code_with_nothing_injected(sandbox: Path, name: str) -> None:
    result = runner.invoke(app, ["new", name, "--yes", "--no-git"], prog_name="scaffold")
    assert result.exit_code == 0, result.output
    root = sandbox / "outer" / "work" / name
    identifier = name.replace("-", "_")
    for file in root.rglob("*.py"):
        module = ast.parse(file.read_text(), str(file))  # compiles
        for node in ast.walk(module):
            if isinstance(node, ast.Call):
                assert ast.unparse(node.func) not in {"os.system", "eval", "exec"}, file
            names = {getattr(node, attr, None) for attr in ("id", "name", "attr", "arg")}
            assert identifier not in names and name not in names, (file, ast.dump(node))
    record(inputs=1)


def test_an_error_in_the_middle_of_rendering_leaves_nothing(sandbox, monkeypatch) -> None:
    from copier._main import Worker

    rendered = []
    render_file = Worker._render_file

    def fail_on_the_tenth(self, *args, **kwargs):
        if len(rendered) == 10:
            raise OSError(28, "No space left on device")
        rendered.append(args)
        return render_file(self, *args, **kwargs)

    monkeypatch.setattr(Worker, "_render_file", fail_on_the_tenth)
    before = tree(sandbox)
    for args in (["proj", "--yes"], ["proj", "--yes", "--no-git"], ["taken2", "--dest", "x/y/z"]):
        rendered.clear()
        line = refused(args)
        assert "No space left on device" in line
        assert len(rendered) == 10
        assert tree(sandbox) == before, args  # no project, no answers file, no temp folder


def test_ctrl_c_at_random_moments_leaves_a_whole_project_or_nothing(tmp_path: Path) -> None:
    rng = random.Random(3)
    outcomes = {"interrupted": 0, "finished": 0}
    for attempt in range(8):
        work = tmp_path / f"w{attempt}"
        work.mkdir()
        process = subprocess.Popen(
            [sys.executable, "-m", "scaffold", "new", "proj", "--yes"],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.3, 2.0))
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        leftovers = [p.name for p in work.iterdir()]
        if leftovers:  # it finished before the signal (or while exiting): a whole project
            outcomes["finished"] += 1
            assert leftovers == ["proj"], leftovers
            root = work / "proj"
            assert (root / ".copier-answers.yml").is_file() and (root / "train.py").is_file()
            status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True)
            assert status.returncode == 0 and status.stdout == b""
        else:
            outcomes["interrupted"] += 1
            assert process.returncode != 0
            if process.returncode == 130:
                assert err.strip() == "scaffold: error: interrupted: nothing was written"
    assert outcomes["interrupted"] >= 3, outcomes
    record(interrupts=outcomes["interrupted"])
