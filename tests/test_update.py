"""scaffold update and plain copier update, offline, between two installed template releases.

v1 is the current release and v2 the next one (the current template plus scripted changes,
recorded as a release in its copy of the template history), each laid out like an installed
wheel in a temporary folder and run in a fresh interpreter. Both add themselves to the same
template store (a git bundle under this test worker's HOME), as two releases do on a user's
machine. tests/test_releases.py covers the releases before 0.6.0 and several teammates.
"""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, assert_one_line_error, run_script, tree
from tests.template_versions import (
    CHANGED_LINE,
    CURRENT,
    NEW_FILE,
    NEW_KEY,
    REMOVED_FILE,
    RENAMED,
    V3_LINE,
    Scaffold,
    commit_all,
    git,
    install,
    v2_changes,
    v3_changes,
)

TASKS = ["regression", "binary", "multiclass", "multilabel", "image", "text"]  # text: multiclass


def tasks(*default: str) -> list:
    """Every task; those not in `default` only in the slow suite (each task is updated by
    some test of the default suite, and by every per-task test of the slow one)."""
    return [t if t in default else pytest.param(t, marks=pytest.mark.slow) for t in TASKS]


NEXT = "0.12.0"  # the release after the current one, in these tests


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scaffold, Scaffold]:
    root = tmp_path_factory.mktemp("installed")
    v2 = install(root / "v2", NEXT, [v2_changes])
    return Scaffold(install(root / "v1")), Scaffold(v2)


RENDERED: dict[tuple, Path] = {}  # what `new` made in this test process, to copy


def new(scaffold: Scaffold, dest: Path, *options: str, git: bool = True) -> Path:
    """`scaffold new NAME --yes OPTIONS` of that installed version, made once per test process
    for each version, environment, name and options, and copied (with its git repository)."""
    key = (scaffold.site, tuple(sorted(scaffold.env.items())), dest.name, options, git)
    if key not in RENDERED:
        made = Path(tempfile.mkdtemp(prefix="scaffold-new-")) / dest.name
        atexit.register(shutil.rmtree, made.parent, ignore_errors=True)
        args = ["new", dest.name, "--yes", *options, *([] if git else ["--no-git"])]
        scaffold(*args, cwd=made.parent)
        RENDERED[key] = made
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(RENDERED[key], dest, symlinks=True)
    return dest


def task_options(task: str) -> list[str]:
    if task == "text":
        return ["--task", "multiclass", "--input", "text"]
    return ["--task", task] + (["--input", "image"] if task == "image" else [])


def snapshot(root: Path) -> dict[str, bytes | None]:
    return tree(root, skip=(".git",))


def answers(root: Path) -> dict:
    return yaml.safe_load((root / ".copier-answers.yml").read_text())


def edit_like_a_user(root: Path) -> dict[str, str]:
    """The scripted user edits; returns the text each must still contain afterwards."""
    config = root / "config.py"
    text = config.read_text()
    assert text.count('dropout: float = setting(0.1, "dropout probability")') == 1
    config.write_text(
        text.replace('setting(0.1, "dropout probability")', 'setting(0.25, "dropout probability")')
    )
    model = root / "model.py"
    added = (
        "\n\ndef count_parameters(model: nn.Module) -> int:\n"
        "    return sum(p.numel() for p in model.parameters())\n"
    )
    model.write_text(model.read_text() + added)
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nTrained on the 2026 export.\n")
    (root / "tests" / "test_smoke.py").unlink()
    (root / "features.py").write_text("EXTRA_COLUMNS = ['ratio']\n")
    commit_all(root)
    return {
        "config.py": 'dropout: float = setting(0.25, "dropout probability")',
        "model.py": "def count_parameters(model: nn.Module) -> int:",
        "README.md": "## Our notes\n\nTrained on the 2026 export.\n",
        "features.py": "EXTRA_COLUMNS = ['ratio']\n",
    }


def assert_v2_arrived(root: Path, removed: bool = True) -> None:
    assert CHANGED_LINE[1] in (root / "train.py").read_text()
    assert NEW_KEY in (root / "config.py").read_text()
    assert (root / NEW_FILE[0]).read_text() == NEW_FILE[1]
    assert (root / REMOVED_FILE).exists() != removed
    for name in ["utils.py", "eval.py", "predict.py"]:
        text = (root / name).read_text()
        assert RENAMED[1] in text and RENAMED[0] not in text, name
    assert answers(root)["_commit"] == NEXT


# ---------------------------------------------------------------------------------------------
# Updating to a new template version


@pytest.mark.parametrize("task", tasks("regression", "image"))
def test_untouched_project_updates_to_exactly_a_fresh_v2_project(versions, tmp_path, task) -> None:
    v1, v2 = versions
    old = new(v1, tmp_path / "old" / "proj", *task_options(task))
    result = v2("update", cwd=old)
    assert f"Updated proj from template {CURRENT} to {NEXT}" in result.stdout
    assert "What changed" in result.stdout and f"  {NEXT} (test release)" in result.stdout
    fresh = new(v2, tmp_path / "fresh" / "proj", *task_options(task), git=False)
    assert snapshot(old) == snapshot(fresh)


@pytest.mark.parametrize("task", tasks("binary", "multilabel", "text"))
def test_user_edits_survive_the_update_and_the_project_still_trains(
    versions, tmp_path, task
) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj", *task_options(task))
    kept = edit_like_a_user(root)
    result = v2("update", str(root), cwd=tmp_path)
    assert "conflict" not in result.stdout + result.stderr
    for name, text in kept.items():
        assert text in (root / name).read_text(), name
    assert not (root / "tests" / "test_smoke.py").exists()
    assert_v2_arrived(root)
    markers = re.compile(rb"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
    assert not any(markers.search(data) for data in snapshot(root).values() if data)
    run_script(root, "train.py", "--epochs", "2")
    assert (root / "runs").is_dir()


def test_a_hop_across_two_releases_on_a_machine_that_saw_neither(versions, tmp_path) -> None:
    """Made with this release, updated by a teammate who only installed the one after next."""
    v1, _ = versions
    v3 = Scaffold(install(tmp_path / "v3", "0.13.0", [v3_changes]))
    root = new(v1, tmp_path / "a" / "proj", "--task", "multilabel")
    kept = edit_like_a_user(root)
    teammate = v3.at(tmp_path / "teammate")
    result = teammate("update", cwd=root)
    assert f"Updated proj from template {CURRENT} to 0.13.0" in result.stdout
    assert "  0.13.0 (test release)" in result.stdout and f"  {NEXT} (test release)" not in (
        result.stdout
    )  # the test releases' changelogs: each copy knows only its own test entry
    for name, text in kept.items():
        assert text in (root / name).read_text(), name
    assert (
        V3_LINE[1] in (root / "eval.py").read_text() and NEW_KEY in (root / "config.py").read_text()
    )


@pytest.mark.parametrize("task", tasks("multiclass"))
def test_a_conflicting_edit_is_marked_listed_and_exits_non_zero(versions, tmp_path, task) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj", *task_options(task))
    train = root / "train.py"
    train.write_text(train.read_text().replace(CHANGED_LINE[0], 'checkpoints are in {run_dir}/")'))
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    commit_all(root)
    result = v2("update", cwd=root, check=False)
    assert_one_line_error(result, "conflicts in train.py")
    text = train.read_text()
    for marker in ["<<<<<<< before updating", "=======", ">>>>>>> after updating"]:
        assert marker in text
    assert 'checkpoints are in {run_dir}/")' in text and CHANGED_LINE[1] in text
    assert "train.py" in git(root, "diff", "--name-only", "--diff-filter=U")
    assert (root / "README.md").read_text().endswith("\nOur notes.\n")
    assert (root / NEW_FILE[0]).is_file() and NEW_KEY in (root / "config.py").read_text()


def test_a_file_the_template_removes_is_kept_when_the_user_changed_it(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    (root / REMOVED_FILE).write_text((root / REMOVED_FILE).read_text() + "Our data source.\n")
    commit_all(root)
    result = v2("update", cwd=root)
    assert f"note: kept {REMOVED_FILE}" in result.stdout
    assert (root / REMOVED_FILE).read_text().endswith("Our data source.\n")
    assert_v2_arrived(root, removed=False)


def test_user_data_files_are_never_rewritten(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj", "--task", "multiclass")
    (data,) = (root / "data").glob("*.csv")
    data.write_text(data.read_text().replace(",", ";"))  # their own version of the file
    commit_all(root)
    before = data.read_bytes()
    v2("update", cwd=root)
    assert data.read_bytes() == before


def test_dry_run_shows_the_changes_and_changes_nothing(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    before = snapshot(root)
    result = v2("update", "--dry-run", cwd=root)
    assert f"Would update proj from template {CURRENT} to {NEXT}: 10 files changed" in result.stdout
    for line in [" M train.py", " D data/README.md", "?? NOTES.md", " M .copier-answers.yml"]:
        assert f"  {line}\n" in result.stdout
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""
    # A dry run of a conflicting update names the file, exits 1 and still changes nothing.
    train = root / "train.py"
    train.write_text(train.read_text().replace(CHANGED_LINE[0], 'checkpoints are in {run_dir}/")'))
    commit_all(root)
    before = snapshot(root)
    result = v2("update", "--dry-run", cwd=root, check=False)
    assert_one_line_error(result, "would conflict in train.py", "nothing was changed")
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


def test_an_up_to_date_project_is_left_alone(versions, tmp_path) -> None:
    _, v2 = versions
    root = new(v2, tmp_path / "proj")
    result = v2("update", cwd=root)
    assert result.stdout.strip() == f"proj is already at template {NEXT}; nothing to do"
    assert git(root, "status", "--porcelain") == ""


def test_plain_copier_update_works_after_scaffold_template(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "a" / "proj", "--task", "binary")
    shown = v2("template", cwd=tmp_path).stdout
    assert "versions: " in shown and f"{CURRENT}, {NEXT} (this scaffold: {NEXT})" in shown
    subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", "--conflict", "inline"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    fresh = new(v2, tmp_path / "b" / "proj", "--task", "binary", git=False)
    assert snapshot(root) == snapshot(fresh)


# ---------------------------------------------------------------------------------------------
# Changing an answer


def test_set_changes_answers_in_place_at_the_same_version(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "a" / "proj", "--task", "multiclass")
    # tracker=mlflow also changes README.md, which quotes the conflict markers (not a conflict)
    result = v2("update", "--set", "optimizer=sgd", "--set", "scheduler=step", "--set", "lr=0.05",
                "--set", "tracker=mlflow", cwd=root)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "Updated proj with optimizer=sgd, scheduler=step, lr=0.05, tracker=mlflow "
        f"(template {CURRENT})" in result.stdout
    )
    recorded = answers(root)
    assert recorded["_commit"] == CURRENT
    assert (recorded["optimizer"], recorded["scheduler"], recorded["lr"]) == ("sgd", "step", 0.05)
    assert recorded["tracker"] == "mlflow"
    options = ["--task", "multiclass", "--optimizer", "sgd", "--scheduler", "step", "--lr", "0.05"]
    options += ["--tracker", "mlflow"]
    fresh = new(v1, tmp_path / "b" / "proj", *options, git=False)
    assert snapshot(root) == snapshot(fresh)


def edit_answer(root: Path, old: str, new: str) -> None:
    path = root / ".copier-answers.yml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    commit_all(root, "edited an answer by hand")


@pytest.mark.parametrize("newer", [True, False], ids=["with-an-update", "same-version"])
def test_an_answer_edited_by_hand_is_applied(versions, tmp_path, newer) -> None:
    """copier alone would render the base with the edited answer and never apply it."""
    v1, v2 = versions
    scaffold, version = (v2, NEXT) if newer else (v1, CURRENT)
    root = new(v1, tmp_path / "a" / "proj", "--task", "binary")
    edit_answer(root, "optimizer: adamw", "optimizer: sgd")
    result = scaffold("update", cwd=root)
    assert "note: applied the answers edited by hand in .copier-answers.yml (optimizer)" in (
        result.stdout
    )
    assert f"template {CURRENT} to {version} with optimizer=sgd" in result.stdout
    assert 'optimizer: str = setting("sgd"' in (root / "config.py").read_text()
    fresh = new(scaffold, tmp_path / "b" / "proj", "--task", "binary", "--optimizer", "sgd",
                "--lr", "0.001", git=False)  # fmt: skip
    assert snapshot(root) == snapshot(fresh)


@pytest.mark.parametrize(
    "before,after,words",
    [
        ("optimizer: adamw", "optimizer: rmsprop", ["'rmsprop' is not one of adamw, adam, sgd"]),
        ("scheduler: cosine\n", "", ["the answer 'scheduler' was removed by hand"]),
        ("epochs: 30", "epochs: 30\ncolour: red", ["unknown answer 'colour'"]),
    ],
    ids=["bad-value", "removed", "unknown"],
)
def test_a_bad_hand_edit_is_refused_and_changes_nothing(versions, tmp_path, before, after, words):
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    edit_answer(root, before, after)
    before = snapshot(root)
    assert_one_line_error(v2("update", cwd=root, check=False), *words)
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "setting,words",
    [
        ("optimizer", ["--set expects KEY=VALUE"]),
        ("=sgd", ["--set expects KEY=VALUE"]),
        ("colour=red", ["unknown answer 'colour'"]),
        ("optimizer=rmsprop", ["'rmsprop' is not one of adamw, adam, sgd"]),
        ("epochs=many", ["'many' is not a valid int"]),
        ("lr=-1", ["--lr", "the learning rate must be in (0, 10]"]),
        ("model=cnn", ["--model", "model 'cnn' is for image input"]),
        ("project_name=../x", ["invalid project name"]),
    ],
)
def test_a_bad_set_is_refused_and_changes_nothing(versions, tmp_path, setting, words) -> None:
    v1, _ = versions
    root = new(v1, tmp_path / "proj")
    before = snapshot(root)
    assert_one_line_error(v1("update", "--set", setting, cwd=root, check=False), *words)
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


# ---------------------------------------------------------------------------------------------
# Refusals: a clear one-line error and nothing changed


def test_a_dirty_tree_is_refused(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    (root / "train.py").write_text((root / "train.py").read_text() + "\n# wip\n")
    (root / "scratch.py").write_text("x = 1\n")
    before = snapshot(root)
    result = v2("update", cwd=root, check=False)
    assert_one_line_error(
        result, "uncommitted changes", "train.py", "scratch.py", "commit or stash"
    )
    assert snapshot(root) == before


def test_a_missing_answers_file_is_refused(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    (root / ".copier-answers.yml").unlink()
    commit_all(root)
    before = snapshot(root)
    assert_one_line_error(v2("update", cwd=root, check=False), "has no .copier-answers.yml")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "text,words",
    [
        ("_commit: [1.0.0\n", ["is not valid YAML"]),
        ("- just\n- a list\n", ["holds no answers"]),
    ],
    ids=["invalid-yaml", "not-a-mapping"],
)
def test_a_broken_answers_file_is_refused(versions, tmp_path, text, words) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    source = answers(root)["_src_path"]
    (root / ".copier-answers.yml").write_text(text.format(src=source))
    commit_all(root)
    before = snapshot(root)
    assert_one_line_error(v2("update", cwd=root, check=False), *words)
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


def test_a_project_outside_git_is_refused(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj", git=False)
    before = snapshot(root)
    assert_one_line_error(
        v2("update", cwd=root, check=False), "not in a git repository", "git init"
    )
    assert snapshot(root) == before


def test_a_downgrade_is_refused_with_what_to_do(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v2, tmp_path / "proj")
    before = snapshot(root)
    result = v1("update", cwd=root, check=False)
    assert_one_line_error(
        result,
        f"uses template {NEXT}, newer than this scaffold's {CURRENT}",
        "pip install -U pytorch-scaffold",
    )
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize("where", ["missing", "file"])
def test_a_path_that_is_not_a_folder_is_refused(versions, tmp_path, where) -> None:
    _, v2 = versions
    target = tmp_path / "nothing"
    if where == "file":
        target.write_text("x")
    assert_one_line_error(v2("update", str(target), cwd=tmp_path, check=False), "is not a folder")


def test_a_project_from_another_template_store_is_refused(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    other = Scaffold(v2.site, env={"SCAFFOLD_HOME": str(tmp_path / "elsewhere")})
    result = other("update", cwd=root, check=False)
    assert_one_line_error(result, "was made from the template source", "SCAFFOLD_HOME")
    assert git(root, "status", "--porcelain") == ""


def test_a_store_that_never_saw_the_projects_version_still_updates(versions, tmp_path) -> None:
    """Every release travels with the package: a teammate's fresh store holds them all."""
    v1, v2 = versions
    home = {"SCAFFOLD_HOME": str(tmp_path / "store")}
    root = new(Scaffold(v1.site, env=home), tmp_path / "proj")
    (tmp_path / "store" / "template.bundle").unlink()  # a store that never saw the version
    result = Scaffold(v2.site, env=home)("update", cwd=root)
    assert f"from template {CURRENT} to {NEXT}" in result.stdout
    assert_v2_arrived(root)


def test_a_garbled_version_is_found_from_the_files(versions, tmp_path) -> None:
    v1, v2 = versions
    root = new(v1, tmp_path / "proj")
    path = root / ".copier-answers.yml"
    path.write_text(path.read_text().replace(f"_commit: {CURRENT}", "_commit: not-a-version"))
    commit_all(root)
    result = v2("update", cwd=root)
    assert "records template 'not-a-version', which names no single template" in result.stdout
    assert f"files match template {CURRENT} (all files identical" in result.stdout
    assert_v2_arrived(root)


def test_an_interrupted_update_puts_the_project_back(tmp_path, monkeypatch) -> None:
    """Ctrl-C (or any failure) after copier has started writing leaves the last commit."""
    from copier._main import Worker

    from scaffold.update import update_project
    from tests.conftest import render

    root = render(tmp_path / "proj", git=True, task="binary")
    before = snapshot(root)
    apply = Worker._apply_update

    def apply_then_interrupt(self: Worker) -> None:
        apply(self)
        assert git(root, "status", "--porcelain")  # the update had changed files
        raise KeyboardInterrupt

    monkeypatch.setattr(Worker, "_apply_update", apply_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        update_project(root, {"optimizer": "sgd"})
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""


# ---------------------------------------------------------------------------------------------
# What projects record, and the pip-installed path


def test_projects_record_the_store_and_a_real_version(versions, tmp_path) -> None:
    v1, _ = versions
    root = new(v1, tmp_path / "proj")
    recorded = answers(root)
    assert recorded["_src_path"] == "~/.local/share/scaffold/template.bundle"
    bundle = Path(recorded["_src_path"]).expanduser()
    heads = git(tmp_path, "bundle", "list-heads", str(bundle))
    assert f"refs/tags/{recorded['_commit']}" in heads and recorded["_commit"] == CURRENT


def test_labels_are_the_same_on_every_machine(tmp_path) -> None:
    """A release is the same commit in every store. A source checkout whose template differs
    from its release gets VERSION+unreleased.TREE: the same label for the same content on every
    machine, another label for other content, and never a rewritten release."""
    a, b = install(tmp_path / "a"), install(tmp_path / "b")
    stores = {name: {"SCAFFOLD_HOME": str(tmp_path / f"store-{name}")} for name in "abc"}
    heads = {}
    for name, site in [("a", a), ("b", b)]:
        Scaffold(site, env=stores[name])("template", cwd=tmp_path)
        bundle = tmp_path / f"store-{name}" / "template.bundle"
        heads[name] = git(tmp_path, "bundle", "list-heads", str(bundle))
    assert heads["a"] == heads["b"] and f"refs/tags/{CURRENT}" in heads["a"]
    for site in (a, b):  # the same edit on two machines, after different histories
        readme = site / "scaffold" / "_template" / "templates" / "project" / "README.md.jinja"
        readme.write_text(readme.read_text() + "\nEdited.\n")
    shown = {n: Scaffold(s, env=stores[n])("template", cwd=tmp_path).stdout for n, s in
             [("a", a), ("b", b), ("c", b)]}  # fmt: skip
    labels = {n: re.search(r"this scaffold: (\S+)\)", text)[1] for n, text in shown.items()}
    assert len(set(labels.values())) == 1 and labels["a"].startswith(f"{CURRENT}+unreleased.")
    readme.write_text(readme.read_text() + "Edited again.\n")
    other = Scaffold(b, env=stores["c"])("template", cwd=tmp_path).stdout
    assert re.search(r"this scaffold: (\S+)\)", other)[1] not in (labels["a"], CURRENT)
    for name in "ab":  # the release still names its own commit
        bundle = tmp_path / f"store-{name}" / "template.bundle"
        after = git(tmp_path, "bundle", "list-heads", str(bundle))
        release = [line for line in after.splitlines() if line.endswith(f"refs/tags/{CURRENT}")]
        assert release and release[0] in heads[name]


def test_a_damaged_store_is_a_clear_error(versions, tmp_path) -> None:
    _, v2 = versions
    store = tmp_path / "store"
    store.mkdir()
    (store / "template.bundle").write_bytes(b"not a bundle")
    result = Scaffold(v2.site, env={"SCAFFOLD_HOME": str(store)})(
        "new", "p", "--yes", cwd=tmp_path, check=False
    )
    assert_one_line_error(result, "template store", "is damaged")
    assert not (tmp_path / "p").exists()


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scaffold built as a wheel and pip-installed into a target folder (no build isolation:
    hatchling comes from the test extras, so this works offline)."""
    root = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (root / "dist").glob("pytorch_scaffold-*.whl")
    target = root / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True,
                   capture_output=True)  # fmt: skip
    return target


def test_a_pip_installed_scaffold_makes_updatable_projects(versions, wheel_site, tmp_path) -> None:
    _, v2 = versions
    installed = Scaffold(wheel_site)
    where = installed("-c", "import scaffold; print(scaffold.__file__)", cwd=tmp_path, raw=True)
    assert where.stdout.startswith(str(wheel_site))
    root = new(installed, tmp_path / "proj", "--task", "regression")
    recorded = answers(root)
    assert recorded["_src_path"] == "~/.local/share/scaffold/template.bundle"
    assert str(wheel_site) not in (root / ".copier-answers.yml").read_text()
    # The wheel's template is the checkout's: the same release, the same commit.
    assert recorded["_commit"] == CURRENT
    checkout = Scaffold(install(tmp_path / "checkout"))
    assert "+unreleased" not in checkout("template", cwd=tmp_path).stdout
    edit_like_a_user(root)
    v2("update", cwd=root)
    assert_v2_arrived(root)
    commit_all(root, f"template {NEXT}")
    # ...and the pip-installed scaffold then refuses to go back.
    assert_one_line_error(installed("update", cwd=root, check=False), "newer than this scaffold")


def test_a_project_in_a_subfolder_of_a_bigger_repository_updates(versions, tmp_path) -> None:
    v1, v2 = versions
    repo = tmp_path / "monorepo"
    root = new(v1, repo / "models" / "proj", git=False)
    (repo / "other.txt").write_text("not part of the project\n")
    git(repo, "init", "-q")
    commit_all(repo, "monorepo")
    assert "10 files changed" in v2("update", "--dry-run", cwd=root).stdout
    assert git(repo, "status", "--porcelain") == ""
    result = v2("update", "models/proj", cwd=repo)
    assert "   M train.py\n" in result.stdout and "?? NOTES.md" in result.stdout
    assert_v2_arrived(root)
    assert (repo / "other.txt").read_text() == "not part of the project\n"


def test_an_unusable_store_is_a_clear_error(versions, tmp_path) -> None:
    _, v2 = versions
    blocker = tmp_path / "store"
    blocker.write_text("a file where the store folder should be")
    result = Scaffold(v2.site, env={"SCAFFOLD_HOME": str(blocker)})(
        "new", "p", "--yes", cwd=tmp_path, check=False
    )
    assert_one_line_error(result, "cannot use the template store")
    assert not (tmp_path / "p").exists()


def test_without_git_a_project_renders_but_records_no_version(versions, tmp_path) -> None:
    v1, v2 = versions
    (tmp_path / "bin").mkdir()  # a PATH with no git on it
    nogit = Scaffold(v1.site, env={"PATH": str(tmp_path / "bin")})
    result = nogit("new", "proj", "--yes", cwd=tmp_path)
    assert "note: git is not installed" in result.stderr
    assert "_commit" not in answers(tmp_path / "proj")
    assert not (tmp_path / "proj" / ".git").exists() and (tmp_path / "proj" / "train.py").is_file()
    assert_one_line_error(
        v2("update", cwd=tmp_path / "proj", check=False), "not in a git repository"
    )
    # Put under git later, it updates: its release is found from its files.
    root = tmp_path / "proj"
    git(root, "init", "-q")
    commit_all(root, "made without git")
    result = v2("update", cwd=root)
    assert "records no template version" in result.stdout
    assert f"files match template {CURRENT} (all files identical" in result.stdout
    assert_v2_arrived(root)
