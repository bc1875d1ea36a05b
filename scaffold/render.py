"""Create a project from the installed template version (update.py updates one).

The template renders into a temporary folder beside the destination, which is moved into place
only when everything (rendering, git init) has worked: an error or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import keyword
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from scaffold import __version__, store
from scaffold.errors import Interrupted, ScaffoldError
from scaffold.git import run_git
from scaffold.quick import faster_copier
from scaffold.template import template_root

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")
ANSWERS_FILE = ".copier-answers.yml"


def check_name(name: str) -> None:
    """The rule of copier.yml's project_name validator, checked before anything is written."""
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(
            f"invalid project name {name!r}: use 1-100 ASCII letters, digits, '-' or '_', "
            "starting with a letter"
        )
    if keyword.iskeyword(name.replace("-", "_")):
        raise ScaffoldError(f"invalid project name {name!r}: it is a Python keyword")


def check_destination(dest: Path) -> None:
    """The destination must be new or an empty folder, inside a folder we can write to."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ScaffoldError(f"destination {dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise ScaffoldError(f"destination {dest} exists and is not empty")
    parent = dest.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ScaffoldError(f"cannot create {dest}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScaffoldError(f"cannot create {dest}: no permission to write in {parent}")


def create_project(
    dest: Path, data: dict[str, Any], *, interactive: bool, git: bool
) -> tuple[dict[str, Any], str | None]:
    """Render the template with `data` (asking for the rest when `interactive`) into `dest`.
    Returns the recorded answers and a note for the user (or None)."""
    dest = dest.absolute()
    check_destination(dest)
    created = [p for p in [dest.parent, *dest.parent.parents] if not p.exists()]
    tmp = None
    try:
        for folder in reversed(created):
            folder.mkdir()
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".scaffold-tmp", dir=dest.parent)
        )
        note = _render(tmp, data, interactive)
        if git and note is None:
            _git_init(tmp)
        if dest.exists():  # an empty folder (checked above): keep it, it may be the cwd
            for child in tmp.iterdir():
                child.rename(dest / child.name)
            tmp.rmdir()
        else:
            _set_default_mode(tmp)
            tmp.rename(dest)
    except BaseException:
        if tmp is not None:
            _remove_tree(tmp)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    try:
        answers = yaml.safe_load((dest / ANSWERS_FILE).read_text(encoding="utf-8"))
    except KeyboardInterrupt:
        raise Interrupted(f"the project {dest} was already complete") from None
    return answers, note


def _render(dst: Path, data: dict[str, Any], interactive: bool) -> str | None:
    """Render the installed template version from the template store into `dst`."""
    import copier  # 0.4 s: only when a project is made

    if shutil.which("git") is None:  # copier can still render the plain folder
        source, ref = str(template_root()), None
        note = (
            "git is not installed: no initial commit, and no template version recorded "
            "(scaffold update cannot update this project)"
        )
    else:
        source, ref, note = store.source_text(), store.ensure_version(), None
    with copier_errors(source):
        copier.run_copy(source, dst, data=data, defaults=not interactive, quiet=True, vcs_ref=ref)
    return note


@contextlib.contextmanager
def copier_errors(source: str) -> Iterator[None]:
    """Run copier inside: faster (scaffold/quick.py), its exceptions as one-line
    ScaffoldErrors, its Ctrl-C as KeyboardInterrupt."""
    from copier.errors import CopierAnswersInterrupt, CopierError

    try:
        with faster_copier():
            yield
    except CopierAnswersInterrupt:
        raise KeyboardInterrupt from None
    except (CopierError, ValueError) as e:
        raise ScaffoldError(_one_line(e)) from None
    except ScaffoldError:
        raise
    except Exception as e:  # e.g. a git command copier ran on the template failed
        detail = (getattr(e, "stderr", None) or str(e)).strip().splitlines()
        raise ScaffoldError(
            f"rendering {source} failed: {detail[-1] if detail else type(e).__name__}"
        ) from None


def _one_line(error: Exception) -> str:
    """copier's validation messages, phrased with the CLI's option names."""
    text = " ".join(str(error).split())
    match = re.match(r"(?:Validation error for question|Invalid choice for) '(\w+)':? (.*)", text)
    if match:
        name, message = match.groups()
        option = "NAME" if name == "project_name" else "--" + name.replace("_", "-")
        return f"{option}: {message}"
    return text


def _git_init(path: Path) -> None:
    """Make the project a git repository with one commit: copier update needs one later."""
    env = dict(os.environ)
    for key, config, fallback in [
        ("NAME", "user.name", "scaffold"),
        ("EMAIL", "user.email", "scaffold@localhost"),
    ]:
        found = subprocess.run(["git", "config", config], cwd=path, capture_output=True)
        if found.returncode != 0 or not found.stdout.strip():
            env.setdefault(f"GIT_AUTHOR_{key}", fallback)
            env.setdefault(f"GIT_COMMITTER_{key}", fallback)
    commands = [
        ["git", "-c", "init.defaultBranch=main", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m",
         f"Initial commit from scaffold {__version__}"],
    ]  # fmt: skip
    for command in commands:
        run_git(*command[1:], cwd=path, env=env)


def _remove_tree(path: Path) -> None:
    """Delete a half-made project, retrying for a moment: a git process killed by Ctrl-C may
    still be writing into it while the first attempt runs."""
    for _ in range(20):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.05)


def _set_default_mode(path: Path) -> None:
    """mkdtemp makes a private (0700) folder; give the project the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)
