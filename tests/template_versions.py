"""Installed scaffold releases for the update tests, made without touching the repository checkout.

- `install(folder, version, changes)` lays out the scaffold package and its template in `folder`
  the way a wheel does (scaffold/ with scaffold/_template/ inside), sets the version, applies
  scripted template changes (`v2_changes`, `v3_changes`) and records the result as a release in
  that copy's template history, as `scripts/template_history.py` does for a real release.
- `install_legacy(folder, version)` lays out a real release before 0.6.0 from the repository's
  git history: its own code, which labelled every template 0.1.0 or 0.1.0.postN.
- `build_wheel` builds a real wheel of either, offline (hatchling, no build isolation).
- `Scaffold` runs the CLI of one installed copy in a fresh interpreter, as a user would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scaffold import history, store
from tests import launcher

REPO = Path(__file__).resolve().parent.parent
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")
CURRENT = re.search(r'__version__ = "(.*)"', (REPO / "scaffold/__init__.py").read_text())[1]

# The scripted template changes of v2, and how each shows in a rendered project.
CHANGED_LINE = ('checkpoints in {run.run_dir}/")', 'checkpoints saved in {run.run_dir}/")')
NEW_KEY = '    grad_clip: float = setting(0.0, "clip the gradient norm to this value (0 = off)")\n'
NEW_FILE = ("NOTES.md", "# Notes\n\n- Template 2: gradient clipping setting.\n")
REMOVED_FILE = "data/README.md"
RENAMED = ("collect_logits", "gather_logits")
# v3 = v2 plus one more changed line.
V3_LINE = ('print(f"\\nwrote {out}")', 'print(f"\\nmetrics written to {out}")')


def v2_changes(template: Path) -> None:
    """A changed line in train.py, a new config key, a new file, a removed file and a renamed
    function."""
    project = template / "templates" / "project"
    train = project / "train.py"
    text = train.read_text()
    assert text.count(CHANGED_LINE[0]) == 1
    train.write_text(text.replace(*CHANGED_LINE))
    config = project / "config.py.jinja"
    lines = config.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("    lr: float = setting("))
    config.write_text("".join(lines[: at + 1] + [NEW_KEY] + lines[at + 1 :]))
    (project / NEW_FILE[0]).write_text(NEW_FILE[1])
    (project / (REMOVED_FILE + ".jinja")).unlink()
    for file in project.rglob("*.jinja"):
        text = file.read_text()
        if RENAMED[0] in text:
            file.write_text(re.sub(rf"\b{RENAMED[0]}\b", RENAMED[1], text))


def v3_changes(template: Path) -> None:
    v2_changes(template)
    evaluate = template / "templates" / "project" / "eval.py.jinja"
    text = evaluate.read_text()
    assert text.count(V3_LINE[0]) == 1
    evaluate.write_text(text.replace(*V3_LINE))


def set_version(package: Path, version: str) -> None:
    init = package / "__init__.py"
    init.write_text(re.sub(r'__version__ = ".*"', f'__version__ = "{version}"', init.read_text()))
    config = package / "_template" / "copier.yml"
    text = re.sub(
        r'(template_version:\n(?:  .*\n)*?  default: )".*"', rf'\1"{version}"', config.read_text()
    )
    config.write_text(text)


def install(
    folder: Path, version: str = CURRENT, changes: Iterable[Callable[[Path], None]] = ()
) -> Path:
    """Lay out scaffold `version` in `folder` like an installed wheel, recorded as a release
    with `changes` applied to its template; return `folder`."""
    package = folder / "scaffold"
    shutil.copytree(REPO / "scaffold", package, ignore=JUNK)
    template = package / "_template"
    shutil.copytree(REPO / "templates", template / "templates", ignore=JUNK)
    shutil.copy(REPO / "copier.yml", template / "copier.yml")
    shutil.copy(REPO / "CHANGELOG.md", template / "CHANGELOG.md")
    set_version(package, version)
    for change in changes:
        change(template)
    if version != CURRENT:
        log = template / "CHANGELOG.md"
        entry = f"## {version} (test release)\n- Scripted changes.\n\n"
        log.write_text(log.read_text().replace("## ", entry + "## ", 1))
    store.record_release(package / "template_history.bundle", template, version)
    return folder


def has_git_history() -> bool:
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{history.LEGACY['0.5.0']}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
    )
    return found.returncode == 0


def install_legacy(folder: Path, version: str) -> Path:
    """Lay out the real release `version` (before 0.6.0) from git history like a wheel."""
    if not has_git_history():
        pytest.skip("needs the scaffold repository's git history (a clone, not an sdist)")
    source = folder / "source"
    source.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", history.LEGACY[version]], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    package = folder / "scaffold"
    shutil.copytree(source / "scaffold", package)
    shutil.copytree(source / "templates", package / "_template" / "templates")
    shutil.copy(source / "copier.yml", package / "_template" / "copier.yml")
    return folder


def build_wheel(installed: Path, dist: Path) -> Path:
    """A real wheel of an installed layout (`install` or `install_legacy`), built offline into
    `dist` (one folder per wheel: every release before 0.6.0 is scaffold-0.1.0)."""
    source = dist / "source"
    if (installed / "source").is_dir():  # a legacy release: its own repository tree
        shutil.copytree(installed / "source", source)
    else:
        source.mkdir(parents=True)
        package = installed / "scaffold"
        shutil.copytree(package, source / "scaffold", ignore=shutil.ignore_patterns("_template"))
        for name in ["copier.yml", "CHANGELOG.md", "templates"]:
            copy = shutil.copytree if (package / "_template" / name).is_dir() else shutil.copy
            copy(package / "_template" / name, source / name)
        for name in ["pyproject.toml", "README.md"]:
            shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "wheel", "--no-deps",
         "--no-build-isolation", "-w", str(dist), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    return wheel


def pip_install(wheel: Path, target: Path) -> Path:
    """pip-install a wheel into a target folder (its own site); return the folder."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return target


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def commit_all(root: Path, message: str = "my changes") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@dataclass
class Scaffold:
    """The `scaffold` command of one installed version."""

    site: Path  # the folder on sys.path that holds the scaffold package
    env: dict[str, str] = field(default_factory=dict)  # extra environment variables

    def __call__(
        self, *args: str, cwd: Path, check: bool = True, raw: bool = False
    ) -> subprocess.CompletedProcess:
        """Run `scaffold ARGS` (with raw=True: `python ARGS`) with only this version importable."""
        env = {
            **os.environ,
            **self.env,
            "PYTHONPATH": str(self.site),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if raw:
            result = subprocess.run(
                [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True
            )
        else:  # a new process, forked from one that imported copier's dependencies already
            code = "import sys; from scaffold.cli import main; sys.argv[0] = 'scaffold'; main()"
            with tempfile.TemporaryDirectory() as tmp:
                started = launcher.start(cwd, ["-c", code, *args], env, Path(tmp) / "log")
                returncode = started.wait(300)
                out, err = started.output("stdout"), started.output("stderr")
            result = subprocess.CompletedProcess(["scaffold", *args], returncode, out, err)
        if check:
            assert result.returncode == 0, f"scaffold {args}:\n{result.stdout}\n{result.stderr}"
        return result

    def at(self, home: Path) -> Scaffold:
        """The same installation used by another person: their own HOME (template store)."""
        home.mkdir(parents=True, exist_ok=True)
        return Scaffold(self.site, {**self.env, "HOME": str(home)})
