"""The `scaffold` command as a user meets it: help, version, the task table, `new` with and
without prompts, and a clear one-line error (with nothing written) for every bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaffold import __version__
from scaffold.cli import app, format_task_table
from scaffold.template import questions
from tests.conftest import assert_one_line_error, tree

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), prog_name="scaffold")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("args", [["--help"], ["-h"], []], ids=["--help", "-h", "no-args"])
def test_help_lists_commands(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: scaffold")
    for command in ["new", "update", "template", "tasks"]:
        assert f"  {command} " in result.stdout, command
    assert not result.stderr


def test_update_help_shows_its_options() -> None:
    result = invoke("update", "--help")
    assert result.exit_code == 0
    for text in ["[PATH]", "--set KEY=VALUE", "--dry-run", "clean git tree", "conflicts"]:
        assert text in result.stdout, text


def test_new_help_lists_every_question_with_choices() -> None:
    result = invoke("new", "--help")
    assert result.exit_code == 0
    for name, question in questions().items():
        if name == "project_name":
            continue
        assert "--" + name.replace("_", "-") in result.stdout, name
        for choice in question.choices:
            assert choice in result.stdout, (name, choice)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"scaffold {__version__}"


def test_python_m_scaffold_help_imports_neither_copier_nor_torch() -> None:
    code = (
        "import sys\n"
        "from scaffold.cli import main\n"
        "for args in (['--help'], ['update', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit as e:\n        assert e.code == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'copier', 'torch'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    module = subprocess.run(
        [sys.executable, "-m", "scaffold", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "Usage: scaffold" in module.stdout


def test_tasks_prints_the_task_table() -> None:
    result = invoke("tasks")
    assert result.exit_code == 0
    for text in ["CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss", "softmax", "argmax", "R2"]:
        assert text in result.stdout
    markdown = invoke("tasks", "--markdown")
    assert markdown.stdout.strip() == format_task_table(markdown=True)
    assert markdown.stdout.startswith("| task | head size |")


def test_new_with_yes_creates_a_project(workdir: Path) -> None:
    result = invoke("new", "demo", "--task", "binary", "--input", "image", "--yes", "--no-git")
    assert result.exit_code == 0, result.output
    assert "Created demo (task binary, input image, model cnn)" in result.stdout
    answers = yaml.safe_load((workdir / "demo" / ".copier-answers.yml").read_text())
    assert (answers["task"], answers["input"], answers["model"]) == ("binary", "image", "cnn")
    assert not (workdir / "demo" / ".git").exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["demo"]  # no temporary folder left


def test_new_into_an_existing_empty_folder_and_with_dest(workdir: Path, monkeypatch) -> None:
    (workdir / "empty").mkdir()
    assert invoke("new", "p1", "--dest", "empty", "--yes", "--no-git").exit_code == 0
    assert (workdir / "empty" / "train.py").is_file()
    (workdir / "here").mkdir()
    inode = (workdir / "here").stat().st_ino
    monkeypatch.chdir(workdir / "here")
    assert invoke("new", "p3", "--dest", ".", "--yes", "--no-git").exit_code == 0
    assert (workdir / "here").stat().st_ino == inode  # the same folder, filled in place
    assert (workdir / "here" / "train.py").is_file()
    assert sorted(p.name for p in workdir.iterdir()) == ["empty", "here"]
    monkeypatch.chdir(workdir)
    assert invoke("new", "p2", "-d", "deep/er/p2", "--yes", "--no-git").exit_code == 0
    assert (workdir / "deep" / "er" / "p2" / "train.py").is_file()


def test_without_a_terminal_it_takes_the_defaults_and_never_asks(workdir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scaffold", "new", "quiet", "--no-git"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((workdir / "quiet" / ".copier-answers.yml").read_text())
    assert (answers["task"], answers["optimizer"], answers["epochs"]) == ("multiclass", "adamw", 30)


def test_interactive_prompts_show_help_and_defaults(workdir: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", "asked", "--no-git", "--optimizer", "sgd"],
        cwd=str(workdir),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 160),
    )
    prompts = [
        ("What the model predicts", "\x1b[A\r"),  # arrow up from multiclass: binary
        ("What one sample is", "\r"),  # default: tabular
        ("Model architecture", "\r"),  # default: mlp
        ("Learning-rate schedule", "\r"),  # optimizer was given: not asked
        ("Learning rate", "\r"),  # default for sgd: 0.01
        ("Batch size", "\x7f\x7f32\r"),  # replace 64 by 32
        ("Maximum number of epochs", "\r"),
        ("Experiment tracker", "\r"),  # default: tensorboard
    ]
    for text, keys in prompts:
        child.expect_exact(text)
        child.send(keys)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    answers = yaml.safe_load((workdir / "asked" / ".copier-answers.yml").read_text())
    expected = {"task": "binary", "input": "tabular", "model": "mlp", "optimizer": "sgd"}
    assert {k: answers[k] for k in expected} == expected
    assert (answers["lr"], answers["batch_size"], answers["epochs"]) == (0.01, 32, 30)
    assert answers["tracker"] == "tensorboard"


BAD_OPTIONS = [
    (["--task", "classification"], ["--task", "regression", "multilabel", "image"]),
    (["--input", "audio"], ["--input", "tabular", "image", "text"]),
    (["--model", "resnet"], ["--model", "mlp", "linear", "cnn", "bag", "transformer"]),
    (["--optimizer", "lion"], ["--optimizer", "adamw", "adam", "sgd"]),
    (["--scheduler", "onecycle"], ["--scheduler", "cosine", "step", "plateau", "none"]),
    (["--lr", "fast"], ["--lr", "valid number"]),
    (["--batch-size", "1.5"], ["--batch-size"]),
    (["--epochs", "ten"], ["--epochs"]),
    (["--lr", "0"], ["--lr", "(0, 10]"]),
    (["--lr", "-0.1"], ["--lr"]),
    (["--batch-size", "0"], ["--batch-size", "1 to"]),
    (["--epochs", "0"], ["--epochs", "1 to"]),
    (["--task", "image", "--input", "tabular"], ["--input", "task 'image' needs input 'image'"]),
    (["--input", "image", "--model", "mlp"], ["--model", "'mlp' is for tabular input"]),
    (["--input", "tabular", "--model", "cnn"], ["--model", "'cnn' is for image input"]),
    (["--task", "regression", "--model", "cnn"], ["--model", "'cnn' is for image input"]),
    (["--input", "text", "--model", "mlp"], ["--model", "'mlp' is for tabular input"]),
    (["--input", "image", "--model", "bag"], ["--model", "'bag' is for text input"]),
    (["--input", "tabular", "--model", "transformer"], ["--model", "'transformer' is for text"]),
    (["--task", "image", "--input", "text"], ["--input", "task 'image' needs input 'image'"]),
    (["--tracker", "comet"], ["--tracker", "tensorboard", "wandb", "mlflow", "none"]),
    (["--no-such-flag"], ["No such option"]),
]


@pytest.mark.parametrize("args,fragments", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option_values_fail_cleanly_and_write_nothing(
    workdir: Path, args: list[str], fragments: list[str]
) -> None:
    result = invoke("new", "proj", *args, "--yes", "--no-git")
    assert_one_line_error(result, *fragments)
    assert list(workdir.iterdir()) == []


BAD_NAMES = [
    "",
    "../../x",
    "a/b",
    "/abs/path",
    "my proj",
    "1abc",
    "_private",
    "a.b",
    "class",
    "import",
    "True",
    "x" * 101,
    "naïve",
    "проект",
    "{{ 7*7 }}",
    "{% raw %}",
    'x"; import os; os.system("id")',
    "x';",
    "a\\b",
    "tab\tname",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_project_names_fail_cleanly_and_write_nothing(workdir: Path, name: str) -> None:
    result = invoke("new", name, "--yes", "--no-git")
    assert_one_line_error(result, "invalid project name")
    assert list(workdir.iterdir()) == []


def test_missing_name_is_a_usage_error(workdir: Path) -> None:
    assert_one_line_error(invoke("new", "--yes"), "Missing argument")


def test_dash_and_underscore_names_are_fine(workdir: Path) -> None:
    result = invoke("new", "my-proj_2", "--yes", "--no-git")
    assert result.exit_code == 0, result.output
    pyproject = (workdir / "my-proj_2" / "pyproject.toml").read_text()
    assert 'name = "my_proj_2"' in pyproject  # the Python-facing name


def test_existing_non_empty_destination_is_left_untouched(workdir: Path) -> None:
    dest = workdir / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    (dest / "sub").mkdir()
    (dest / "sub" / "data.bin").write_bytes(os.urandom(64))
    before = tree(workdir)
    assert_one_line_error(invoke("new", "taken", "--yes"), "exists and is not empty")
    assert_one_line_error(invoke("new", "other", "--dest", "taken", "--yes"), "not empty")
    assert tree(workdir) == before


def test_destination_that_is_a_file(workdir: Path) -> None:
    (workdir / "afile").write_text("x")
    before = tree(workdir)
    assert_one_line_error(invoke("new", "afile", "--yes"), "is not a folder")
    assert_one_line_error(invoke("new", "p", "--dest", "afile/p", "--yes"), "is not a folder")
    (workdir / "link").symlink_to(workdir / "afile")
    before = tree(workdir)
    assert_one_line_error(invoke("new", "link", "--yes"), "is not a folder")
    assert tree(workdir) == before


def test_unwritable_parent_folder(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: simulate the permission check failing
        monkeypatch.setattr("scaffold.render.os.access", lambda path, mode: False)
    else:
        locked.chmod(0o500)
    try:
        result = invoke("new", "p", "--dest", "locked/p", "--yes", "--no-git")
        assert_one_line_error(result, "no permission to write")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_readme_documents_the_task_table_and_every_option() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert format_task_table(markdown=True) in readme
    for name in questions():
        option = "`NAME`" if name == "project_name" else f"`--{name.replace('_', '-')}`"
        assert f"| {option} |" in readme, name
