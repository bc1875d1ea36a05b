"""Shared fixtures: an isolated HOME and git config, rendered projects cached per session, and
a way to run a generated project's scripts the way a user would."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold.render import create_project
from tests import launcher

REPO = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "project_probe.py"

TASKS = ["regression", "binary", "multiclass", "multilabel"]
INPUTS = ["tabular", "image", "text"]
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
def shared(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str, Callable[[Path], None]], Path]:
    """`shared(name, make)`: the folder NAME that `make(folder)` fills, made once per test run
    for all pytest-xdist workers (the first to ask makes it under a lock; the others wait and
    reuse it). Do not modify what it returns."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    root.mkdir(exist_ok=True)

    def get(name: str, make: Callable[[Path], None]) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_-]", "_", name)
        done = root / slug / slug
        with open(root / f"{slug}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                partial = Path(tempfile.mkdtemp(dir=root)) / slug
                make(partial)
                partial.parent.rename(done.parent)
        return done

    return get


@pytest.fixture(scope="session")
def pristine(shared: Callable[[str, Callable[[Path], None]], Path]) -> Callable[..., Path]:
    """Render each set of answers once per test run, shared by the pytest-xdist workers. Do
    not modify what it returns."""

    def get(**answers: Any) -> Path:
        key = sorted(answers.items())
        name = "-".join(["p", *(str(v) for _, v in key)])
        return shared(name, lambda dest: render(dest, **answers))

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
    fresh: bool = False,
) -> subprocess.CompletedProcess:
    """Run one of the project's scripts (`train.py --epochs 2`, or any .py file) in the project,
    as `python SCRIPT ARGS` would; `env` changes the environment (None: unset).

    Where the process boundary does not matter it runs in this test process (torch is already
    imported: 1.5 s saved per run). With `fresh=True` (kills, faults that end the process, a
    resume in a new process) it runs in a new process, forked from a server that has imported
    torch already (tests/launcher.py), as `python -c CODE` and `python -m MODULE` (torchrun)
    do. A PYTHONPATH change (hiding a package) starts a new interpreter."""
    changed = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    environment = {k: v for k, v in changed.items() if v is not None}
    if "PYTHONPATH" in (env or {}):
        result = subprocess.run(
            [sys.executable, *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
        )
    elif fresh or args[0] in ("-c", "-m"):
        with tempfile.TemporaryDirectory() as tmp:
            started = launcher.start(Path(project), list(args), environment, Path(tmp) / "log")
            try:
                code = started.wait(timeout)
            except TimeoutError:
                started.kill()
                raise
            out, err = started.output("stdout"), started.output("stderr")
        result = subprocess.CompletedProcess(args, code, out, err)
    else:
        result = _run_in_process(project, list(args), env or {})
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _run_in_process(
    project: Path, args: list[str], env: dict[str, str | None]
) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` in this process: the project's modules imported afresh (and
    forgotten afterwards), its folder as the working directory, sys.exit and uncaught
    exceptions turned into the exit code and stderr a subprocess would give."""
    import torch  # already imported by the tests that train

    torch.set_num_threads(1)  # as OMP_NUM_THREADS=1 gives a subprocess
    project = Path(project).resolve()
    script = (project / args[0]).resolve()
    own = {p.stem for p in project.glob("*.py")} | {p.stem for p in script.parent.glob("*.py")}
    saved = {"argv": sys.argv, "path": list(sys.path), "cwd": os.getcwd()}
    saved_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__
    saved_env = {k: os.environ.get(k) for k in env}
    out, err = io.StringIO(), io.StringIO()
    code = 0
    for name in own:
        sys.modules.pop(name, None)
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.chdir(project)
        sys.argv = [str(args[0]), *args[1:]]
        sys.path[:0] = [str(script.parent), str(project)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main = lambda: runpy.run_path(str(script), run_name="__main__")  # noqa: E731
            code = launcher.exit_code(main, catch=Exception)  # Ctrl-C still stops the tests
    finally:
        os.chdir(saved["cwd"])
        sys.argv, sys.path[:] = saved["argv"], saved["path"]
        sys.dont_write_bytecode = saved_bytecode
        for name in own:
            sys.modules.pop(name, None)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


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
        config.stash[STARTED] = time.monotonic()
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
    if sum(outcomes.values()):
        terminalreporter.write_line(
            f"reliability: {sum(outcomes.values())} tests, {outcomes['failed']} failed; "
            f"{totals.get('kills', 0)} kills and {totals.get('interrupts', 0)} Ctrl-C survived; "
            f"{totals.get('inputs', 0)} hostile inputs tried; lost {outcomes['failed']}"
        )
    budget_line(terminalreporter, config)


# ---------------------------------------------------------------------------------------------
# The time budget of the README's test command (`pytest -n 2`: the default suite on 2 cores).
# A whole default run ends with one line against it; over budget it says so (a warning, not a
# failure: a busy machine must not fail the suite). See README, "Keeping the suite fast".

BUDGET_SECONDS = 8 * 60
STARTED = pytest.StashKey[float]()


def budget_line(terminalreporter: Any, config: pytest.Config) -> None:
    whole = not config.option.keyword and config.option.markexpr == "not slow"
    whole = whole and [Path(a).resolve() for a in config.args] in ([], [REPO / "tests"])
    if not whole or STARTED not in config.stash:
        return
    seconds = time.monotonic() - config.stash[STARTED]
    workers = getattr(config.option, "numprocesses", None) or 1
    line = (
        f"time budget: {seconds / 60:.1f} of {BUDGET_SECONDS // 60} minutes for the default "
        f"suite ({workers} worker{'s' if workers != 1 else ''}; the budget is for -n 2 on "
        "2 cores)"
    )
    if seconds > BUDGET_SECONDS:
        line += " -- OVER BUDGET: see the slowest tests above and README 'Keeping the suite fast'"
    terminalreporter.write_line(line, bold=seconds > BUDGET_SECONDS)


def reseal_checkpoint(root: Path, path: str, change: str) -> None:
    """Apply `change` (Python, on the loaded checkpoint `s`) to a checkpoint of the project at
    `root`, and seal it again with the project's own state_digest, as a newer release or a
    hand edit would leave it."""
    script = (
        f"import torch, checkpoints; p = {path!r}; s = torch.load(p, weights_only=True); "
        f"s.pop('sha256'); {change}; s['sha256'] = checkpoints.state_digest(s); torch.save(s, p)"
    )
    run_script(root, "-c", script)
