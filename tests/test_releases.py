"""Template releases that mean the same on every machine, and projects of every earlier release
that update on any machine, with their old runs still evaluating, predicting and resuming.

The releases before 0.6.0 are the real ones, taken from the repository's git history (their own
code labelled every template 0.1.0 or 0.1.0.postN, numbered per machine); later ones are made
by tests/template_versions.py. Teammates are simulated with one HOME (template store) each and
real wheels, built and installed offline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from scaffold import __version__, history, store
from scaffold.template import copier_config, template_root
from scaffold.update import update_project
from tests.conftest import REPO, reseal_checkpoint, run_script, tree
from tests.template_versions import (
    CHANGED_LINE,
    NEW_KEY,
    Scaffold,
    build_wheel,
    commit_all,
    git,
    has_git_history,
    install,
    install_legacy,
    pip_install,
    v2_changes,
)

LEGACY = list(history.LEGACY)
NEXT = "0.12.0"
needs_history = pytest.mark.skipif(
    not has_git_history(), reason="needs the scaffold repository's git history (a clone)"
)


def snapshot(root: Path) -> dict[str, bytes | None]:
    return tree(root, skip=(".git", "runs"))


# ---------------------------------------------------------------------------------------------
# The release record


def test_the_template_is_recorded_as_the_current_version() -> None:
    """A template change without a version bump (and a re-recorded history) cannot land."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r.git"
        store.git("init", "-q", "--bare", str(repo))
        commit = store.commit_template(repo, template_root(), __version__)
    assert history.releases().get(__version__) == commit, (
        f"the template differs from what {__version__} recorded: bump the version in "
        "scaffold/__init__.py and copier.yml, add a CHANGELOG.md entry, then run "
        "python scripts/template_history.py"
    )
    assert copier_config()["template_version"]["default"] == __version__
    assert max(history.releases(), key=store.version_key) == __version__


def test_every_release_has_a_changelog_entry() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (\S+) \(", text, re.MULTILINE)
    assert sorted(headings, key=store.version_key, reverse=True) == headings
    assert set(headings) == set(history.releases())


@needs_history
def test_releases_before_0_6_0_are_the_commits_their_own_stores_made(tmp_path) -> None:
    """Rebuilt from git history the way their template stores built them: a machine whose
    store already holds one of them has the very same commit."""
    repo = tmp_path / "r.git"
    store.git("init", "-q", "--bare", str(repo))
    for version, source in history.LEGACY.items():
        folder = tmp_path / version
        folder.mkdir()
        archive = subprocess.run(["git", "archive", source, "copier.yml", "templates"],
                                 cwd=REPO, capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        commit = store.commit_template(repo, folder, history.LEGACY_VERSION)
        assert history.releases()[version] == commit, version


def test_no_readme_installs_the_unrelated_scaffold_package() -> None:
    """`scaffold` on the package index is someone else's project."""
    readmes = [REPO / "README.md", *REPO.glob("templates/project/README.md*")]
    pattern = re.compile(r"pip install( -U| --upgrade)?\s+(scaffold)(?![\w-])")
    for readme in readmes:
        assert not pattern.search(readme.read_text()), readme
    assert 'name = "pytorch-scaffold"' in (REPO / "pyproject.toml").read_text()
    for readme in readmes:
        for line in readme.read_text().splitlines():
            if re.search(r"pip install( -U)? [\w-]*scaffold", line):
                assert "pytorch-scaffold" in line, (readme, line)


# ---------------------------------------------------------------------------------------------
# Old runs after an update


def render_release(dest: Path, version: str, **answers: str) -> Path:
    """A project of an earlier release, under git, as its scaffold made it."""
    import copier

    store.ensure_version()
    data = {"project_name": dest.name, **answers}
    copier.run_copy(store.source_text(), dest, data=data, defaults=True, quiet=True,
                    vcs_ref=version)  # fmt: skip
    git(dest, "init", "-q")
    commit_all(dest, f"made with template {version}")
    return dest


def mixed_table(project: Path) -> str:
    """The sample data with a text column first: 0.2.0 put numeric features before text ones,
    so a converted checkpoint that kept the file's order would pair weights with the wrong
    features."""
    frame = pd.read_csv(project / "data" / "wine.csv")
    frame.insert(0, "region", ["north" if i % 3 else "south" for i in range(len(frame))])
    frame.to_csv(project / "data" / "mixed.csv", index=False)
    return "data/mixed.csv"


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


@needs_history
@pytest.mark.parametrize(
    "version",
    # 0.4.0's runs are also resumed by the team test below; 0.3.0 converts as 0.2.0 does
    [v if v in ("0.2.0", "0.5.0") else pytest.param(v, marks=pytest.mark.slow) for v in LEGACY]
    + ["0.8.0"]  # the release before the tabular defaults of 0.9.0 (robust scaling, embedding)
    + [pytest.param("0.9.0", marks=pytest.mark.slow)],  # the release before text projects
)
def test_old_runs_evaluate_predict_and_resume_after_an_update(tmp_path, version) -> None:
    root = render_release(tmp_path / "proj", version, task="multiclass")
    data = ["--data", mixed_table(root)] if version == "0.2.0" else []
    if data:
        commit_all(root, "our data")
    fast = [*data, "--batch-size", "32", "--seed", "3"]
    run_script(root, "train.py", *fast, "--epochs", "2", "--run-name", "old")
    shutil.copytree(root / "runs" / "old", root / "runs" / "kept")
    run_script(root, "eval.py", "--run", "runs/old")  # the old release's own numbers
    before = json.loads((root / "runs" / "old" / "test_metrics.json").read_text())
    # The old release resumes its own run: the same as never stopping (tested in its time).
    run_script(root, "train.py", *fast, "--epochs", "3", "--resume", "--run-name", "old")

    update_project(root, {})
    assert f'TEMPLATE_VERSION = "{__version__}"' in (root / "checkpoint_versions.py").read_text()

    result = run_script(root, "eval.py", "--run", "runs/kept")
    if version in ("0.2.0", "0.3.0"):
        assert f"written by template {version}, which stored no integrity hash" in result.stdout
    after = json.loads((root / "runs" / "kept" / "test_metrics.json").read_text())
    for key, value in before.items():
        if isinstance(value, float):
            assert after[key] == pytest.approx(value, abs=1e-6), key
    assert after["confusion_matrix"] == before["confusion_matrix"]
    sample = data[1] if data else "data/wine.csv"
    run_script(root, "predict.py", "--run", "runs/kept", "--input", sample)
    predictions = pd.read_csv(root / "runs" / "kept" / "predictions.csv")
    assert len(predictions) == len(pd.read_csv(root / sample))
    result = run_script(root, "train.py", "--resume", "--run", "runs/kept", "--epochs", "3")
    assert "resuming runs/kept at epoch 3" in result.stdout
    ours, theirs = weights(root / "runs/kept/last.pt"), weights(root / "runs/old/last.pt")
    for name in ours:  # 0.2.0 read decimals as float64 (now float32): within 1e-5
        tolerance = 1e-5 if version == "0.2.0" else 0.0
        assert torch.allclose(ours[name], theirs[name], atol=tolerance, rtol=0), name
    saved = torch.load(root / "runs/kept/last.pt", weights_only=True)
    assert saved["template_version"] == __version__ and saved["epoch"] == 3


def test_a_checkpoint_of_a_newer_release_says_so(project, tmp_path) -> None:
    """A run trained after an update, read by the project reverted to its older template."""
    root = project(task="binary")
    run_script(root, "train.py", "--epochs", "1", "--run-name", "r")
    reseal_checkpoint(root, "runs/r/best.pt", "s['template_version'] = '9.0.0'")
    result = run_script(root, "eval.py", "--run", "runs/r", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {Path('runs/r/best.pt')}: written by template 9.0.0, newer than this "
        f"project's {__version__}: bring the project up to date with `scaffold update`"
    )


# ---------------------------------------------------------------------------------------------
# A team: teammates who installed different releases in different orders, sharing one project


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real wheels of 0.4.0 and 0.5.0 (from git history), this release and the next one, each
    pip-installed into its own folder."""
    if not has_git_history():
        pytest.skip("needs the scaffold repository's git history (a clone)")
    root = tmp_path_factory.mktemp("wheels")
    layouts = {
        "0.4.0": install_legacy(root / "layout-0.4.0", "0.4.0"),
        "0.5.0": install_legacy(root / "layout-0.5.0", "0.5.0"),
        __version__: install(root / "layout-current"),
        NEXT: install(root / "layout-next", NEXT, [v2_changes]),
    }
    return {v: pip_install(build_wheel(layout, root / f"dist-{v}"), root / f"site-{v}")
            for v, layout in layouts.items()}  # fmt: skip


def edit_like_a_user(root: Path) -> None:
    config = root / "config.py"
    config.write_text(config.read_text().replace('setting(0.1, "dropout', 'setting(0.25, "dropout'))
    with (root / "model.py").open("a") as f:
        f.write("\n\ndef count_parameters(model: nn.Module) -> int:\n"
                "    return sum(p.numel() for p in model.parameters())\n")  # fmt: skip
    (root / "features.py").write_text("EXTRA_COLUMNS = ['ratio']\n")
    commit_all(root, "our edits")


def test_a_team_updates_a_project_of_an_old_release_to_the_same_bytes(wheels, tmp_path) -> None:
    """Alice installed 0.4.0, then 0.5.0: her store calls them 0.1.0 and 0.1.0.post1. Bob
    installed only 0.5.0: his store calls 0.5.0's template 0.1.0. Carol only ever installed the
    newest. Alice's project, made with 0.4.0, records 0.1.0; merged against Bob's 0.1.0 it
    would silently keep stale lines. Each of them updates it with the newest scaffold."""
    people = {name: tmp_path / "home" / name for name in ("alice", "bob", "carol")}
    alice = {v: Scaffold(wheels[v]).at(people["alice"]) for v in ("0.4.0", "0.5.0", NEXT)}
    bob = {v: Scaffold(wheels[v]).at(people["bob"]) for v in ("0.5.0", NEXT)}
    carol = Scaffold(wheels[NEXT]).at(people["carol"])

    alice["0.4.0"]("template", cwd=tmp_path)
    alice["0.5.0"]("template", cwd=tmp_path)
    bob["0.5.0"]("template", cwd=tmp_path)
    origin = tmp_path / "alice" / "proj"
    origin.parent.mkdir()
    alice["0.4.0"]("new", "proj", "--yes", cwd=origin.parent)
    assert yaml.safe_load((origin / ".copier-answers.yml").read_text())["_commit"] == "0.1.0"
    edit_like_a_user(origin)
    bundle = people["alice"] / ".local" / "share" / "scaffold" / "template.bundle"
    listed = git(tmp_path, "bundle", "list-heads", str(bundle))
    assert "refs/tags/0.1.0\n" in listed and "refs/tags/0.1.0.post1\n" in listed
    # Alice's run, trained with 0.4.0's code.
    run_script(origin, "train.py", "--epochs", "2", "--run-name", "old", "--batch-size", "32")

    results = {}
    for name, scaffold in [("bob", bob[NEXT]), ("carol", carol), ("alice", alice[NEXT])]:
        if name == "alice":
            root = origin
        else:
            root = tmp_path / name / "proj"
            git(tmp_path, "clone", "-q", str(origin), str(root))
        result = scaffold("update", cwd=root)
        assert "records template '0.1.0', which names no single template" in result.stdout
        assert "files match template 0.4.0 (all files identical" in result.stdout
        assert f"Updated proj from template 0.4.0 to {NEXT}" in result.stdout
        assert "conflict" not in result.stdout + result.stderr
        results[name] = snapshot(root)
    assert results["alice"] == results["bob"] == results["carol"]
    # Every user edit kept, every change of 0.5.0 to 0.11.0 and the test release arrived.
    assert "setting(0.25, " in (origin / "config.py").read_text()
    assert "def count_parameters" in (origin / "model.py").read_text()
    assert (origin / "features.py").is_file() and (origin / "distributed.py").is_file()
    assert CHANGED_LINE[1] in (origin / "train.py").read_text()
    assert NEW_KEY in (origin / "config.py").read_text()
    assert yaml.safe_load((origin / ".copier-answers.yml").read_text())["_commit"] == NEXT
    # Alice's old run evaluates, predicts and resumes with the updated code.
    run_script(origin, "eval.py", "--run", "runs/old")
    run_script(origin, "predict.py", "--run", "runs/old", "--input", "data/wine.csv")
    result = run_script(origin, "train.py", "--resume", "--run", "runs/old", "--epochs", "3")
    assert "resuming runs/old at epoch 3" in result.stdout


# ---------------------------------------------------------------------------------------------
# Projects of the releases before the template store (0.2.0, 0.3.0), and hand edits


def without_data(root: Path) -> dict[str, bytes | None]:
    """The project's files but the sample data, which belongs to the person (never updated)."""
    return {k: v for k, v in snapshot(root).items() if not k.startswith("data")}


@needs_history
@pytest.mark.parametrize("how", ["wheel", "checkout"])
def test_a_project_of_a_release_before_the_store_updates(tmp_path, how) -> None:
    """0.2.0 from a wheel recorded no _commit and its site-packages folder as the source; 0.3.0
    from a source checkout recorded the checkout's path and git commit."""
    version = "0.2.0" if how == "wheel" else "0.3.0"
    site = install_legacy(tmp_path / "old", version)
    if how == "checkout":  # run from the source tree, a git repository
        source = site / "source"
        git(source, "init", "-q")
        commit_all(source, "checkout")
        site = source
    Scaffold(site)("new", "proj", "--yes", "--task", "regression", cwd=tmp_path)
    root = tmp_path / "proj"
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert ("_commit" in recorded) == (how == "checkout")
    result = Scaffold(REPO)("update", cwd=root)
    assert f"files match template {version} (all files identical" in result.stdout
    assert f"Updated proj from template {version} to {__version__}" in result.stdout
    commit_all(root, "updated")
    fresh = tmp_path / "fresh" / "proj"
    fresh.parent.mkdir()
    Scaffold(REPO)("new", "proj", "--yes", "--task", "regression", "--no-git", cwd=fresh.parent)
    assert without_data(root) == without_data(fresh)


def test_hand_edits_and_sets_of_a_release_without_checksums(wheels, tmp_path) -> None:
    """0.5.0's answers files carry no checksum: a changed answer is a --set when the files
    follow it, a hand edit when they do not."""
    old, newest = Scaffold(wheels["0.5.0"]).at(tmp_path / "home"), Scaffold(wheels[NEXT])
    newest = newest.at(tmp_path / "home")
    old("new", "proj", "--yes", "--task", "binary", cwd=tmp_path)
    root = tmp_path / "proj"
    old("update", "--set", "scheduler=step", cwd=root)  # 0.5.0's own --set
    commit_all(root, "scheduler=step")
    answers = root / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("optimizer: adamw", "optimizer: adam"))
    commit_all(root, "optimizer by hand")
    result = newest("update", cwd=root)
    assert f"template 0.5.0 to {NEXT} with optimizer=adam" in result.stdout
    config = (root / "config.py").read_text()
    assert (
        'optimizer: str = setting("adam"' in config and '"step", "learning-rate schedule"' in config
    )


def test_a_conflict_in_an_old_release_project_is_marked_listed_and_kept(wheels, tmp_path):
    old, newest = Scaffold(wheels["0.5.0"]).at(tmp_path / "home"), Scaffold(wheels[NEXT])
    old("new", "proj", "--yes", cwd=tmp_path)
    root = tmp_path / "proj"
    train = root / "train.py"
    line = 'checkpoints in {run_dir}/")'  # train.py of 0.5.0; 0.7.0 rewrote the file
    assert line in train.read_text()
    train.write_text(train.read_text().replace(line, 'checkpoints are in {run_dir}/")'))
    commit_all(root)
    result = newest.at(tmp_path / "home")("update", cwd=root, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("scaffold: error: conflicts in train.py")
    text = train.read_text()
    assert "<<<<<<< before updating" in text and CHANGED_LINE[1] in text
    assert "train.py" in git(root, "diff", "--name-only", "--diff-filter=U")
    assert NEW_KEY in (root / "config.py").read_text()


def test_pip_install_upgrade_brings_the_next_template(wheels, tmp_path) -> None:
    """In a virtual environment: the rename from `scaffold` (uninstall it first, as the README
    says; a leftover is reported), then `pip install -U` really upgrades, and the next
    `scaffold update` brings the new template."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    wheel = {v: next(wheels[v].parent.glob(f"dist-{v}/*.whl")) for v in wheels}

    def pip(*args: str) -> str:
        command = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                   "--disable-pip-version-check", *args]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    # Its own home: while both packages are installed, their files mix into an unreleased
    # template, which must not reach the template store the other tests of this process use.
    installed = Scaffold(site).at(tmp_path / "home")

    def version() -> str:
        return installed("--version", cwd=tmp_path).stdout.strip()

    pip("install", "--no-deps", str(wheel["0.5.0"]))
    assert version() == "scaffold 0.1.0"
    pip("install", "--no-deps", str(wheel[__version__]))  # forgot to uninstall the old name
    result = installed("template", cwd=tmp_path)
    assert "the package 'scaffold' 0.1.0 is installed too" in result.stderr
    pip("uninstall", "-y", "scaffold")
    pip("install", "--no-deps", "--force-reinstall", str(wheel[__version__]))
    assert version() == f"scaffold {__version__}"
    assert "is installed too" not in installed("template", cwd=tmp_path).stderr

    installed("new", "proj", "--yes", cwd=tmp_path)
    out = pip("install", "--no-deps", "-U", str(wheel[NEXT]))
    assert "Successfully installed pytorch-scaffold-" + NEXT in out
    assert version() == f"scaffold {NEXT}"
    result = installed("update", cwd=tmp_path / "proj")
    assert f"Updated proj from template {__version__} to {NEXT}" in result.stdout
