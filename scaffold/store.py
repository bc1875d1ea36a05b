"""The template store: one git bundle that holds every template version, for copier to update from.

`copier update` needs the template as a git source holding both the version a project was made
with and the new one. A folder inside site-packages holds neither, so every scaffold command
that renders first makes sure the store holds every release this package carries (history.py)
and the installed template, and projects record the store as their `_src_path`:

    ~/.local/share/scaffold/template.bundle     (or $SCAFFOLD_HOME/template.bundle)

Each version is a root commit with fixed author, date and message, built from the template files
alone, so the same template content gets the same commit on every machine and from a wheel or a
source checkout alike. The installed template is its release when the package's history records
it with the same content; otherwise (a source checkout with template edits not yet released) it
is `VERSION+unreleased.TREE`, TREE naming its content: the same label means the same template
everywhere.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scaffold import __version__, history
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


def write_tree(repo: Path, root: Path) -> str:
    """Write the template at `root` into the bare `repo` as a tree (every file mode 100644)."""
    names = template_files(root)
    shas = git("hash-object", "-w", "--no-filters", "--stdin-paths", cwd=repo,
               input="".join(f"{root / n}\n" for n in names)).split()  # fmt: skip
    index = {"GIT_INDEX_FILE": str(repo / "scaffold.index")}
    listing = "".join(f"100644 {sha}\t{name}\n" for sha, name in zip(shas, names, strict=True))
    git("read-tree", "--empty", cwd=repo, env=index)
    git("update-index", "--add", "--index-info", cwd=repo, input=listing, env=index)
    return git("write-tree", cwd=repo, env=index).strip()


def commit_tree(repo: Path, tree: str, version: str) -> str:
    """The deterministic root commit of a template version."""
    message = f"scaffold template {version}\n"
    return git("commit-tree", "--no-gpg-sign", tree, cwd=repo, input=message).strip()


def commit_template(repo: Path, root: Path, version: str) -> str:
    """Write the template at `root` into the bare `repo` as a deterministic root commit."""
    return commit_tree(repo, write_tree(repo, root), version)


def installed_version(repo: Path) -> tuple[str, str]:
    """The installed template's label and commit (written into `repo`): its release, or
    VERSION+unreleased.TREE when the package's history does not record this content."""
    tree = write_tree(repo, template_root())
    commit = commit_tree(repo, tree, __version__)
    if history.releases().get(__version__) == commit:
        return __version__, commit
    label = f"{__version__}{history.UNRELEASED}{tree[:12]}"
    return label, commit_tree(repo, tree, label)


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
    """Make the store hold every release this package carries and the installed template;
    return the installed template's label."""
    bundle = bundle_path()
    try:
        bundle.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ScaffoldError(f"cannot use the template store {bundle.parent}: {e}") from None
    with _lock(bundle.parent / ".template.lock"), tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "store.git"
        git("-c", "init.defaultBranch=main", "init", "-q", "--bare", str(repo))
        label, commit = installed_version(repo)
        wanted = {**history.releases(), label: commit}
        known = tags(bundle)
        if all(known.get(tag) == sha for tag, sha in wanted.items()):
            return label
        if known:
            git("fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*", cwd=repo)
        # The package's releases win over anything the store says about the same versions.
        git("fetch", "-q", str(history.HISTORY), "+refs/tags/*:refs/tags/*", cwd=repo)
        for tag in sorted(t for t in history.releases() if known.get(t, wanted[t]) != wanted[t]):
            print(
                f"scaffold: note: the template store said {tag} was another template; "
                "it now holds the released one",
                file=sys.stderr,
            )
        git("tag", "-f", label, commit, cwd=repo)
        git("update-ref", "refs/heads/main", latest(known | wanted), cwd=repo)
        write_bundle(repo, bundle)
        return label


def record_release(bundle: Path, root: Path, version: str) -> str:
    """Add the template at `root` to the release bundle `bundle` as `version` (replacing any
    earlier content of that version); return its commit. For scripts/template_history.py and
    the tests, which make releases."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "history.git"
        git("-c", "init.defaultBranch=main", "init", "-q", "--bare", str(repo))
        recorded = tags(bundle)
        if recorded:
            git("fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*", cwd=repo)
        commit = commit_template(repo, root, version)
        git("tag", "-f", version, commit, cwd=repo)
        git("update-ref", "refs/heads/main", latest({**recorded, version: commit}), cwd=repo)
        write_bundle(repo, bundle)
    return commit


def write_bundle(repo: Path, bundle: Path) -> None:
    """Replace `bundle` with every ref of `repo`, atomically."""
    partial = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
    try:
        git("bundle", "create", "-q", str(partial), "--all", cwd=repo)
        os.replace(partial, bundle)
    except OSError as e:
        raise ScaffoldError(f"cannot write the template store {bundle}: {e}") from None
    finally:
        partial.unlink(missing_ok=True)


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
