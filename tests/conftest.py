"""Shared fixtures: an isolated HOME and git config, rendered projects cached per session, and
a way to run a generated project's scripts the way a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold.render import create_project

REPO = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "project_probe.py"

TASKS = ["regression", "binary", "multiclass", "multilabel"]
INPUTS = ["tabular", "image"]
COMBOS = [(task, input) for task in TASKS for input in INPUTS]


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No user or system git/copier config leaks in; torch uses one thread per process so
    that parallel test workers do not fight over the two cores."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Test User\n\temail = test@example.com\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.setenv("MKL_NUM_THREADS", "1")
        mp.delenv("COPIER_SETTINGS_PATH", raising=False)
        yield


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for folders), leaving out folders named in
    `skip` (e.g. ".git")."""
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
        if not set(skip) & set(p.relative_to(root).parts)
    }


def assert_one_line_error(result: Any, *fragments: str) -> None:
    """A `scaffold` failure as users see it: a non-zero exit and one `scaffold: error:` line
    holding every fragment, no traceback. `result` comes from CliRunner or subprocess.run."""
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaffold: error: "), result.stderr
    assert "Traceback" not in (result.stdout or "") + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def render(dest: Path, *, git: bool = False, **answers: Any) -> Path:
    """Create a project the way `scaffold new --yes` does."""
    create_project(dest, {"project_name": dest.name, **answers}, interactive=False, git=git)
    return dest


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Render each set of answers once per session. Do not modify what it returns."""
    cache: dict[tuple, Path] = {}

    def get(**answers: Any) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in cache:
            slug = re.sub(r"[^A-Za-z0-9_-]", "_", "-".join(["p", *(str(v) for _, v in key)]))
            cache[key] = render(tmp_path_factory.mktemp("pristine") / slug, **answers)
        return cache[key]

    return get


@pytest.fixture
def project(pristine: Callable[..., Path], tmp_path: Path) -> Callable[..., Path]:
    """A private copy of a rendered project that a test may train in and change."""

    def get(**answers: Any) -> Path:
        dest = tmp_path / "proj"
        shutil.copytree(pristine(**answers), dest)
        return dest

    return get


def run_script(
    project: Path,
    *args: str,
    check: bool = True,
    timeout: float = 600,
    env: dict[str, str | None] | None = None,
) -> subprocess.CompletedProcess:
    """Run one of the project's scripts with this interpreter, in the project; `env` changes
    the environment (None: unset)."""
    changed = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    result = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in changed.items() if v is not None},
    )
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def probe(project: Path, command: str, *args: str) -> dict[str, Any]:
    """Ask tests/project_probe.py about a project (it imports the project's own modules)."""
    result = run_script(project, str(PROBE), command, *args)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The reliability suite (tests/reliability) ends with one summary line. Its tests count what
# they survived with `record(kills=..., inputs=...)`; the counts travel through a file because
# pytest-xdist runs tests in worker processes.

RELIABILITY_LOG = "SCAFFOLD_RELIABILITY_LOG"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the main process, before any worker starts
        fd, path = tempfile.mkstemp(prefix="scaffold-reliability-", suffix=".jsonl")
        os.close(fd)
        os.environ[RELIABILITY_LOG] = path


def record(**counts: int) -> None:
    """Add to the reliability summary, e.g. record(kills=20)."""
    if os.environ.get(RELIABILITY_LOG):
        with open(os.environ[RELIABILITY_LOG], "a") as f:
            f.write(json.dumps(counts) + "\n")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    outcomes = {"passed": 0, "failed": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if "tests/reliability/" in getattr(report, "nodeid", ""):
                outcomes[outcome] += 1
    path = Path(os.environ.get(RELIABILITY_LOG) or "missing")
    totals: dict[str, int] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            for key, value in json.loads(line).items():
                totals[key] = totals.get(key, 0) + value
        path.unlink()
    if not sum(outcomes.values()):
        return
    terminalreporter.write_line(
        f"reliability: {sum(outcomes.values())} tests, {outcomes['failed']} failed; "
        f"{totals.get('kills', 0)} kills and {totals.get('interrupts', 0)} Ctrl-C survived; "
        f"{totals.get('inputs', 0)} hostile inputs tried; lost {outcomes['failed']}"
    )
