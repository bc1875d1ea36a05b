"""Start a generated project's script in a new process, quickly: forked from a server process
that has already imported torch, numpy, pandas and matplotlib (3-5 s saved per start), and otherwise
as `python SCRIPT ARGS` would start it: its own process (kill -9 kills it alone), the project's
modules imported afresh, its own working directory and environment, its output in a file.

For the tests where the process boundary is the point (kills, faults that end the process, a
resume in a new process); tests/conftest.py's run_script uses it for `fresh=True`.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.context import ForkServerContext
from pathlib import Path

# What every training run imports (torch's first optimizer imports torch._dynamo: 2.5 s more),
# and the slow part of what every `scaffold` command imports (copier's dependencies: 0.8 s).
# Not copier or plumbum themselves: plumbum copies the environment when it is imported, and
# each command has its own (HOME, PATH).
PRELOAD = ["torch", "torch._dynamo", "numpy", "pandas", "matplotlib.pyplot"]
PRELOAD += ["jinja2", "pydantic", "questionary", "typer", "yaml", "packaging.version"]
_context: ForkServerContext | None = None


def context() -> ForkServerContext:
    """The fork server (one per test process), started on first use."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


class Started:
    """A script started by `start`, used like subprocess.Popen."""

    def __init__(self, process: multiprocessing.process.BaseProcess, log: Path) -> None:
        self.process, self.log = process, log

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise TimeoutError(f"still running after {timeout} s: {self.log}")
        return self.process.exitcode

    def kill(self) -> None:
        """kill -9."""
        if self.process.exitcode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    def output(self, stream: str = "stdout") -> str:
        """What the script wrote to stdout (or "stderr") so far."""
        return self.log.with_suffix(f".{stream}").read_text(errors="replace")


def start(cwd: Path, args: list[str], env: dict[str, str], log: Path) -> Started:
    """`python ARGS` (`SCRIPT ARGS`, `-c CODE ARGS` or `-m MODULE ARGS`) in `cwd` with exactly
    the environment `env` (PYTHONPATH and PYTHONDONTWRITEBYTECODE included); its stdout and
    stderr go to LOG.stdout and LOG.stderr."""
    process = context().Process(target=_child, args=(str(cwd), list(args), dict(env), str(log)))
    process.start()
    return Started(process, Path(log))


def _child(cwd: str, args: list[str], env: dict[str, str], log: str) -> None:
    """In the forked process: become `python ARGS` and exit with its code."""
    multiprocessing.set_start_method(None, force=True)  # the default, as in a new interpreter
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, stream in ((1, "stdout"), (2, "stderr")):
        file = os.open(f"{log}.{stream}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(file, fd)
        os.close(file)
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if args[0] == "-c":  # as the interpreter sets it up: '' first, then PYTHONPATH
        command, sys.argv = args[1], ["-c", *args[2:]]
        sys.path[:0] = ["", *extra]

        def main() -> None:
            exec(compile(command, "<string>", "exec"), {"__name__": "__main__"})

    elif args[0] == "-m":  # the working directory first; runpy sets sys.argv[0] to the file
        module, sys.argv = args[1], ["-m", *args[2:]]
        sys.path[:0] = [cwd, *extra]

        def main() -> None:
            runpy.run_module(module, run_name="__main__", alter_sys=True)

    else:
        script = Path(args[0]).resolve()
        sys.argv = list(args)
        sys.path[:0] = [str(script.parent), *extra, cwd]

        def main() -> None:
            runpy.run_path(str(script), run_name="__main__")

    code = exit_code(main)
    atexit._run_exitfuncs()  # as at a normal interpreter exit (trackers finishing their runs)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def exit_code(main: Callable[[], object], catch: type[BaseException] = BaseException) -> int:
    """Run `main` as the interpreter runs a program: return the exit code it would give, with
    an uncaught exception's traceback (or the message of `sys.exit("...")`) on stderr."""
    try:
        main()
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        return e.code or 0
    except catch:
        traceback.print_exc()
        return 1
    return 0
