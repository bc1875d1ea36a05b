"""The one way scaffold runs git: a failure is a one-line ScaffoldError naming the subcommand."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scaffold.errors import ScaffoldError


class GitMissing(ScaffoldError):
    """git is not on PATH."""


def run_git(
    *args: str,
    cwd: Path | None = None,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
) -> bytes:
    """Run `git ARGS` and return its stdout."""
    try:
        process = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except FileNotFoundError:
        raise GitMissing("git is not installed: scaffold needs it for this") from None
    with process:
        try:
            data = input.encode() if isinstance(input, str) else input
            stdout, stderr = process.communicate(data)
        except BaseException:  # Ctrl-C: git must be gone before the caller cleans up after it
            process.kill()
            process.wait()
            raise
    if process.returncode != 0:
        output = (stderr or stdout).decode("utf-8", "replace")
        detail = output.strip().splitlines()
        where = f" in {cwd}" if cwd else ""
        raise ScaffoldError(
            f"`git {_subcommand(args)}` failed{where}: {detail[-1] if detail else ''}"
        )
    return stdout


def _subcommand(args: tuple[str, ...]) -> str:
    """`init` in `git -c init.defaultBranch=main init -q`."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-c", "-C") else 1
    return args[i] if i < len(args) else ""
