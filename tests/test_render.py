"""Every task x input renders the expected files, with no template syntax left, black- and
ruff-clean as rendered; plain `copier copy` gives exactly what `scaffold new` gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import COMBOS, REPO, TASKS, render

COMMON = {
    ".copier-answers.yml",
    ".gitignore",
    ".github/workflows/ci.yml",
    "README.md",
    "pyproject.toml",
    "config.py",
    "data_loader.py",
    "model.py",
    "task.py",
    "train.py",
    "eval.py",
    "predict.py",
    "distributed.py",
    "tracking.py",
    "plots.py",
    "checkpoint_versions.py",
    "checkpoints.py",
    "data_files.py",
    "tables.py",
    "preprocessing.py",
    "run_state.py",
    "utils.py",
    "tests/test_smoke.py",
    "tests/test_sanity.py",
    "data/README.md",
}
SAMPLE = {
    ("regression", "tabular"): "diabetes.csv",
    ("binary", "tabular"): "breast_cancer.csv",
    ("multiclass", "tabular"): "wine.csv",
    ("multilabel", "tabular"): "digits_pixels.csv",
    ("regression", "image"): "digits_value.csv",
    ("binary", "image"): "digits_parity.csv",
    ("multiclass", "image"): None,
    ("multilabel", "image"): "digits_properties.csv",
    **{(task, "text"): "reviews.csv" for task in TASKS},
}


def files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def digit_images(root: Path) -> set[str]:
    return {f for f in files(root) if f.startswith("data/digits/")}


@pytest.mark.parametrize("task,input", COMBOS)
def test_exact_file_set(pristine, task: str, input: str) -> None:
    root = pristine(task=task, input=input)
    expected = set(COMMON)
    if SAMPLE[task, input]:
        expected.add(f"data/{SAMPLE[task, input]}")
    images = digit_images(root)
    if input == "image":
        assert len(images) == 300 and all(f.endswith(".png") for f in images)
        expected |= images | {"images.py"}
    else:
        assert not images
        expected.add("baseline.py")
    assert files(root) == expected


def test_task_image_is_multiclass_with_image_input(pristine) -> None:
    shortcut = pristine(task="image", project_name="digits")
    explicit = pristine(task="multiclass", input="image", project_name="digits")
    assert files(shortcut) == files(explicit)
    for name in files(explicit) - {".copier-answers.yml", "README.md"}:
        assert (shortcut / name).read_bytes() == (explicit / name).read_bytes(), name
    answers = yaml.safe_load((shortcut / ".copier-answers.yml").read_text())
    assert answers["task"] == "image" and "input" not in answers


@pytest.mark.parametrize("task,input", COMBOS)
def test_no_template_syntax_survives(pristine, task: str, input: str) -> None:
    root = pristine(task=task, input=input)
    for name in files(root):
        if name.endswith(".png"):
            continue
        text = (root / name).read_text(encoding="utf-8")
        for marker in ("{{", "}}", "{%", "%}", "{#"):
            assert marker not in text, f"{name} contains {marker!r}"


def test_black_and_ruff_clean_as_rendered(pristine) -> None:
    """Every task x input, in one run of each tool (with the projects' own settings); a
    failure names the file."""
    roots = [str(pristine(task=task, input=input)) for task, input in COMBOS]
    config = str(Path(roots[0]) / "pyproject.toml")  # the same [tool.black] in every project
    for tool in (
        ["black", "--check", "--config", config, *roots],
        ["ruff", "check", "--no-cache", "--quiet", *roots],  # each file's nearest pyproject
    ):
        result = subprocess.run([sys.executable, "-m", *tool], capture_output=True, text=True)
        assert result.returncode == 0, (tool[0], result.stdout, result.stderr)


@pytest.mark.parametrize("task,input", COMBOS)
def test_every_python_file_compiles(pristine, task: str, input: str) -> None:
    root = pristine(task=task, input=input)
    for name in files(root):
        if name.endswith(".py"):
            compile((root / name).read_text(), name, "exec")


def test_answers_file_records_every_question(pristine) -> None:
    root = pristine(task="binary", input="tabular", optimizer="sgd", scheduler="step")
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["_src_path"]
    expected = {
        "project_name": root.name,
        "task": "binary",
        "input": "tabular",
        "model": "mlp",
        "optimizer": "sgd",
        "scheduler": "step",
        "lr": 0.01,
        "batch_size": 64,
        "epochs": 30,
    }
    assert {k: answers[k] for k in expected} == expected


def test_answers_reach_the_config(pristine) -> None:
    answers = {"model": "linear", "optimizer": "adam", "scheduler": "plateau"}
    root = pristine(task="regression", lr=0.003, batch_size=17, epochs=4, **answers)
    config = (root / "config.py").read_text()
    for line in [
        'model: str = setting("linear",',
        'optimizer: str = setting("adam",',
        "lr: float = setting(0.003,",
        "batch_size: int = setting(17,",
        "epochs: int = setting(4,",
        '"plateau", "learning-rate schedule"',
    ]:
        assert line in config, line


def test_plain_copier_copy_equals_scaffold_new(tmp_path: Path) -> None:
    """`copier copy` from the template store (what projects record as _src_path) writes exactly
    what `scaffold new` writes; from the repository checkout, the same except _src_path and
    _commit."""
    import copier

    from scaffold import store

    answers = {"task": "multilabel", "input": "image", "optimizer": "sgd", "epochs": 7}
    ours = render(tmp_path / "ours", **answers)
    data = {"project_name": "ours", **answers}
    for source, ref in [(store.source_text(), store.ensure_version()), (str(REPO), "HEAD")]:
        theirs = tmp_path / "theirs" / source.replace("/", "_")
        copier.run_copy(source, theirs, data=data, defaults=True, quiet=True, vcs_ref=ref)
        assert files(ours) == files(theirs)
        for name in files(ours):
            a, b = (ours / name).read_bytes(), (theirs / name).read_bytes()
            if name == ".copier-answers.yml" and source == str(REPO):
                a, b = (re.sub(rb"_(commit|src_path): .*\n", b"", t) for t in (a, b))
            assert a == b, (source, name)


def test_new_project_is_a_git_repo_with_one_clean_commit(tmp_path: Path) -> None:
    root = render(tmp_path / "withgit", git=True, task="binary")
    log = subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True)
    assert status.stdout == b""


def test_git_commit_works_without_a_git_identity(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    root = render(tmp_path / "anon", git=True)
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>"], cwd=root, capture_output=True, text=True
    )
    assert author.stdout.strip() == "scaffold <scaffold@localhost>"


def test_template_needs_no_trust() -> None:
    config = yaml.safe_load((REPO / "copier.yml").read_text())
    assert not {"_tasks", "_migrations", "_jinja_extensions"} & set(config)
    assert config["_subdirectory"] == "templates/project"
    assert (REPO / "templates/project/{{_copier_conf.answers_file}}.jinja").is_file()


@pytest.mark.parametrize(
    "name,ok",
    [
        ("my-proj_2", True),
        ("A" * 100, True),
        ("A" * 101, False),
        ("../x", False),
        ("1abc", False),
        ("class", False),
        ("naïve", False),
        ("{{ 7*7 }}", False),
    ],
)
def test_plain_copier_refuses_the_names_the_cli_refuses(
    tmp_path: Path, name: str, ok: bool
) -> None:
    import copier

    from scaffold.errors import ScaffoldError
    from scaffold.render import check_name

    try:
        check_name(name)
        cli_ok = True
    except ScaffoldError:
        cli_ok = False
    try:
        copier.run_copy(
            str(REPO), tmp_path / "p", data={"project_name": name}, defaults=True, quiet=True,
            pretend=True, vcs_ref="HEAD",
        )  # fmt: skip
        copier_ok = True
    except ValueError as e:
        assert "project_name" in str(e)
        copier_ok = False
    assert cli_ok == copier_ok == ok
    assert not (tmp_path / "p").exists()
