"""The template store: one git bundle that holds every template version this machine has used.

`copier update` needs the template as a git source holding both the version a project was made
with and the new one. A folder inside site-packages holds neither, so every scaffold command
that renders first adds the installed template to the store as a commit tagged with the package
version, and projects record the store as their `_src_path`:

    ~/.local/share/scaffold/template.bundle     (or $SCAFFOLD_HOME/template.bundle)

Each version is a root commit with fixed author, date and message, built from the template files
alone, so the same template content gets the same commit on every machine and from a wheel or a
source checkout alike. A source checkout whose template was edited without a version bump adds
the edited content as VERSION.postN (N counts up on this machine).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scaffold import __version__
from scaffold.errors import ScaffoldError
from scaffold.git import run_git
from scaffold.template import template_root

BUNDLE = "template.bundle"
# Left out of the store, like copier's own _exclude leaves them out of projects.
JUNK_DIRS = {"__pycache__", ".git", ".pytest_cache", ".ruff_cache"}
JUNK_FILE = re.compile(r"(~.*|.*\.py[co]|\.DS_Store)")
# Every commit of the store is made with these, whatever the user's git configuration.
COMMIT_ENV = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def store_dir() -> Path:
    """$SCAFFOLD_HOME, else $XDG_DATA_HOME/scaffold, else ~/.local/share/scaffold."""
    if os.environ.get("SCAFFOLD_HOME"):
        return Path(os.environ["SCAFFOLD_HOME"]).expanduser().absolute()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser().absolute() / "scaffold"


def bundle_path() -> Path:
    return store_dir() / BUNDLE


def source_text(path: Path | None = None) -> str:
    """How projects record the store: `~/...` under the home folder (the same text works for
    every user of a shared project), else the absolute path."""
    path = path or bundle_path()
    with contextlib.suppress(ValueError, RuntimeError):
        return "~/" + path.relative_to(Path.home()).as_posix()
    return path.as_posix()


def expand_source(text: str) -> Path:
    return Path(text).expanduser().absolute()


def git(
    *args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None
) -> str:
    """Run git on the store, isolated from the user's git configuration."""
    output = run_git(*args, cwd=cwd, input=input, env={**os.environ, **COMMIT_ENV, **(env or {})})
    return output.decode()


def template_files(root: Path) -> list[str]:
    """The store's content: copier.yml and templates/, as sorted posix paths relative to root."""
    found = ["copier.yml"]
    for folder, dirs, names in os.walk(root / "templates"):
        dirs[:] = sorted(d for d in dirs if d not in JUNK_DIRS)
        base = Path(folder).relative_to(root)
        found += [(base / n).as_posix() for n in names if not JUNK_FILE.fullmatch(n)]
    return sorted(found)


def commit_template(repo: Path, root: Path, version: str) -> str:
    """Write the template at `root` into the bare `repo` as a deterministic root commit."""
    names = template_files(root)
    shas = git("hash-object", "-w", "--no-filters", "--stdin-paths", cwd=repo,
               input="".join(f"{root / n}\n" for n in names)).split()  # fmt: skip
    index = {"GIT_INDEX_FILE": str(repo / "scaffold.index")}
    listing = "".join(f"100644 {sha}\t{name}\n" for sha, name in zip(shas, names, strict=True))
    git("update-index", "--add", "--index-info", cwd=repo, input=listing, env=index)
    tree = git("write-tree", cwd=repo, env=index).strip()
    message = f"scaffold template {version}\n"
    return git("commit-tree", "--no-gpg-sign", tree, cwd=repo, input=message).strip()


def tags(bundle: Path) -> dict[str, str]:
    """Tag name -> commit of every version in the bundle ({} when there is no bundle)."""
    if not bundle.exists():
        return {}
    try:
        heads = git("bundle", "list-heads", str(bundle))
    except ScaffoldError:
        raise ScaffoldError(
            f"the template store {bundle} is damaged: move it away and run again "
            "(the template versions only it held are then gone)"
        ) from None
    found = {}
    for line in heads.splitlines():
        sha, _, ref = line.partition(" ")
        if ref.startswith("refs/tags/"):
            found[ref.removeprefix("refs/tags/")] = sha
    return found


def ensure_version() -> str:
    """Add the installed template to the store when it is not there yet; return its tag."""
    bundle = bundle_path()
    root = template_root()
    try:
        bundle.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ScaffoldError(f"cannot use the template store {bundle.parent}: {e}") from None
    with _lock(bundle.parent / ".template.lock"), tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "store.git"
        git("-c", "init.defaultBranch=main", "init", "-q", "--bare", str(repo))
        commit = commit_template(repo, root, __version__)
        known = tags(bundle)
        for tag, sha in known.items():
            if sha == commit:
                return tag
        tag = __version__
        if tag in known:  # the same version with other content: an edited source checkout
            posts = [
                int(m[1]) for t in known if (m := re.fullmatch(re.escape(tag) + r"\.post(\d+)", t))
            ]
            tag = f"{__version__}.post{max(posts, default=0) + 1}"
        if known:
            git("fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*", cwd=repo)
        git("tag", tag, commit, cwd=repo)
        git("update-ref", "refs/heads/main", latest(known | {tag: commit}), cwd=repo)
        partial = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
        try:
            git("bundle", "create", "-q", str(partial), "--all", cwd=repo)
            os.replace(partial, bundle)
        except OSError as e:
            raise ScaffoldError(f"cannot write the template store {bundle}: {e}") from None
        finally:
            partial.unlink(missing_ok=True)
        return tag


def version_key(tag: str) -> Any:
    """Sort key for tags: PEP 440 order, anything else first."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(tag)
    except InvalidVersion:
        return Version("0")


def latest(known: dict[str, str]) -> str:
    """The commit of the highest version (the store's main branch, which a clone checks out)."""
    return known[max(known, key=version_key)]


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One scaffold process at a time changes the store (no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        handle = open(path, "a")  # noqa: SIM115 (closed below)
    except OSError as e:
        raise ScaffoldError(f"cannot use the template store {path.parent}: {e}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
