"""Installed scaffold versions for the update tests, made without the repository checkout.

`install(folder, version, v2=...)` copies the scaffold package and its template into `folder`
the way a wheel lays them out (scaffold/ with scaffold/_template/ inside), sets the package
version, and optionally applies the scripted template changes of "v2". `Scaffold` then runs the
CLI from that folder in a fresh interpreter, as a pip-installed user would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")

# The scripted template changes of v2, and how each shows in a rendered project.
CHANGED_LINE = ('checkpoints in {run_dir}/")', 'checkpoints saved in {run_dir}/")')
NEW_KEY = '    grad_clip: float = setting(0.0, "clip the gradient norm to this value (0 = off)")\n'
NEW_FILE = ("CHANGELOG.md", "# Changelog\n\n- Template 2: gradient clipping setting.\n")
REMOVED_FILE = "data/README.md"
RENAMED = ("collect_logits", "gather_logits")


def apply_v2_changes(template: Path) -> None:
    """Template 2 = template 1 plus: a changed line in train.py, a new config key, a new file,
    a removed file and a renamed function."""
    project = template / "templates" / "project"
    train = project / "train.py.jinja"
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


def install(folder: Path, version: str, *, v2: bool = False) -> Path:
    """Lay out scaffold `version` in `folder` like an installed wheel; return `folder`."""
    package = folder / "scaffold"
    shutil.copytree(REPO / "scaffold", package, ignore=JUNK)
    shutil.copytree(REPO / "templates", package / "_template" / "templates", ignore=JUNK)
    shutil.copy(REPO / "copier.yml", package / "_template" / "copier.yml")
    init = package / "__init__.py"
    init.write_text(re.sub(r'__version__ = ".*"', f'__version__ = "{version}"', init.read_text()))
    if v2:
        apply_v2_changes(package / "_template")
    return folder


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
        code = "import sys; from scaffold.cli import main; sys.argv[0] = 'scaffold'; main()"
        command = [sys.executable, *args] if raw else [sys.executable, "-c", code, *args]
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
        if check:
            assert result.returncode == 0, f"scaffold {args}:\n{result.stdout}\n{result.stderr}"
        return result
