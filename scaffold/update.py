"""Update a project to the installed template version, or change its answers, with copier.

copier does the three-way merge (the old render, the person's project, the new render). Around
it this module adds what copier leaves to the caller: the checks that make an update safe to
run, an exact dry run (the update runs in a throwaway clone), a list of conflicted files, a
non-zero exit when there are any, and no file lost: a file the new template removes is kept
when the person had changed it, and a failed or interrupted update puts the project back.
"""

from __future__ import annotations

import glob
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold import store
from scaffold.errors import ScaffoldError
from scaffold.git import GitMissing, run_git
from scaffold.render import ANSWERS_FILE, check_name, copier_errors
from scaffold.template import questions

# At the start of a line: a generated README quotes them mid-line to explain them.
CONFLICT_MARKERS = re.compile(rb"^(<<<<<<< before updating|>>>>>>> after updating)", re.M)


@dataclass
class Update:
    """What an update did (or, with dry_run, would do)."""

    path: Path
    old: str  # template version before
    new: str  # template version after
    settings: dict[str, Any]
    dry_run: bool
    changes: list[str] = field(default_factory=list)  # `git status --short` lines
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # removed by the template, changed by the user


def parse_settings(items: list[str]) -> dict[str, Any]:
    """`--set key=value` items, checked against the template's questions before anything runs."""
    asked = questions()
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ScaffoldError(f"--set expects KEY=VALUE, got {item!r}")
        if key not in asked:
            raise ScaffoldError(f"--set: unknown answer {key!r} (one of: {', '.join(asked)})")
        question = asked[key]
        if question.choices and text not in question.choices:
            raise ScaffoldError(
                f"--set {key}: {text!r} is not one of {', '.join(question.choices)}"
            )
        cast = {"int": int, "float": float}.get(question.type, str)
        try:
            settings[key] = cast(text)
        except ValueError:
            raise ScaffoldError(f"--set {key}: {text!r} is not a valid {question.type}") from None
        if key == "project_name":
            check_name(text)
    return settings


def update_project(path: Path, settings: dict[str, Any], *, dry_run: bool = False) -> Update:
    """Update the project at `path` to the installed template version, or, with `settings`,
    re-render it with those answers changed at its current version."""
    from packaging.version import InvalidVersion, Version

    path = path.resolve()
    if not path.is_dir():
        raise ScaffoldError(f"{path} is not a folder")
    answers = _read_answers(path)
    old, source = str(answers.get("_commit") or ""), str(answers.get("_src_path") or "")
    if not old or not source:
        raise ScaffoldError(
            f"{path / ANSWERS_FILE} records no template version (_commit and _src_path): "
            "a project made without git cannot be updated; make a new one and copy your changes"
        )
    top = _git_top(path)
    _check_clean(path)
    bundle = store.bundle_path()
    if store.expand_source(source).resolve() != bundle.resolve():
        raise ScaffoldError(
            f"{path.name} was made from the template source {source}, not from this scaffold's "
            f"template store {bundle}: point SCAFFOLD_HOME at the folder holding that source, "
            "or run `copier update` there"
        )
    installed = store.ensure_version()
    try:
        older = Version(installed) < Version(old)
    except InvalidVersion:
        raise ScaffoldError(f"{path / ANSWERS_FILE}: _commit {old!r} is not a version") from None
    if older:
        raise ScaffoldError(
            f"{path.name} uses template {old}, newer than this scaffold's {installed}: "
            "upgrade scaffold (pip install -U scaffold) and run `scaffold update` again"
        )
    known = sorted(store.tags(bundle), key=store.version_key)
    if old not in known:
        raise ScaffoldError(
            f"{path.name} was made with template {old}, which the template store {bundle} does "
            f"not hold (it holds {', '.join(known)}): copy the store from the machine that made "
            "the project, or run that scaffold version here once"
        )
    target = old if settings else installed  # --set re-renders at the project's own version
    result = Update(path, old, target, settings, dry_run)
    if old == target and not settings:
        return result
    if dry_run:
        with tempfile.TemporaryDirectory(prefix="scaffold-dry-run.") as tmp:
            clone = Path(tmp) / "project"
            _git(top, "clone", "-q", "--no-hardlinks", str(top), str(clone))
            _update_in_place(clone / path.relative_to(top), answers, result)
    else:
        _update_in_place(path, answers, result)
    return result


def _update_in_place(path: Path, answers: dict[str, Any], result: Update) -> None:
    import copier

    source = str(answers["_src_path"])
    try:
        with copier_errors(source):
            copier.run_update(
                path,
                data=result.settings,
                defaults=True,
                overwrite=True,
                conflict="inline",
                vcs_ref=result.new,
                quiet=True,
                skip_answered=True,
            )
        result.changes = _status(path)
        result.kept = _keep_changed_files(path, answers, result)
        result.conflicts = _conflicts(path, result.changes)
    except BaseException:
        _restore(path)
        raise


def _keep_changed_files(path: Path, answers: dict[str, Any], result: Update) -> list[str]:
    """copier deletes every file the new template no longer has, even one the person changed.
    Put back those that differ from what the old template rendered."""
    deleted = [line[3:] for line in result.changes if line.startswith(" D ")]
    if not deleted:
        return []
    import copier

    kept = []
    with tempfile.TemporaryDirectory(prefix="scaffold-old.") as tmp:
        with copier_errors(str(answers["_src_path"])):
            copier.run_copy(
                str(answers["_src_path"]),
                tmp,
                data={k: v for k, v in answers.items() if not k.startswith("_")},
                defaults=True,
                quiet=True,
                vcs_ref=result.old,
                exclude=["*", "!*/", *(f"!/{glob.escape(name)}" for name in deleted)],
            )
        for name in deleted:
            rendered = Path(tmp, name)
            ours = run_git("show", f"HEAD:./{name}", cwd=path)
            if not rendered.is_file() or rendered.read_bytes() != ours:
                _git(path, "checkout", "-q", "HEAD", "--", name)
                kept.append(name)
    result.changes = [line for line in result.changes if line[3:] not in kept]
    return kept


def _conflicts(path: Path, changes: list[str]) -> list[str]:
    """Files left with conflict markers (copier records them as unmerged, too)."""
    found = set(_git(path, "diff", "--name-only", "--relative", "--diff-filter=U", "--", "."))
    for line in changes:
        file = path / line[3:]
        if file.is_file() and CONFLICT_MARKERS.search(file.read_bytes()):
            found.add(line[3:])
    return sorted(found)


def _status(path: Path) -> list[str]:
    """`git status --short` lines ("XY name") for the project folder, names relative to it."""
    entries = run_git("status", "--porcelain", "-z", "--untracked-files=all", "--", ".", cwd=path)
    prefix = _git(path, "rev-parse", "--show-prefix")
    root = prefix[0] if prefix else ""
    return [
        entry[:3] + entry[3:].removeprefix(root)
        for entry in entries.decode("utf-8", "replace").split("\0")
        if entry
    ]


def _restore(path: Path) -> None:
    """Put a project that was clean before back to its last commit, leaving ignored files."""
    subprocess.run(["git", "reset", "-q", "HEAD", "--", "."], cwd=path, capture_output=True)
    subprocess.run(["git", "checkout", "-q", "HEAD", "--", "."], cwd=path, capture_output=True)
    subprocess.run(["git", "clean", "-fdq", "--", "."], cwd=path, capture_output=True)


def _read_answers(path: Path) -> dict[str, Any]:
    file = path / ANSWERS_FILE
    if not file.is_file():
        raise ScaffoldError(
            f"{path} has no {ANSWERS_FILE}: it was not made by scaffold or copier, or the file "
            "was deleted (restore it from git)"
        )
    try:
        answers = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ScaffoldError(f"{file} is not valid YAML: {' '.join(str(e).split())}") from None
    if not isinstance(answers, dict):
        raise ScaffoldError(f"{file} holds no answers")
    return answers


def _git_top(path: Path) -> Path:
    try:
        return Path(run_git("rev-parse", "--show-toplevel", cwd=path).decode().strip())
    except GitMissing:
        raise
    except ScaffoldError:
        raise ScaffoldError(
            f"{path} is not in a git repository: run `git init && git add -A && "
            'git commit -m "My project"` there first, so the update can merge your changes'
        ) from None


def _check_clean(path: Path) -> None:
    dirty = _status(path)
    if dirty:
        names = [line[3:] for line in dirty]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise ScaffoldError(
            f"{path.name} has uncommitted changes ({shown}): commit or stash them first, "
            "so the update can be reviewed and undone"
        )


def _git(cwd: Path, *args: str) -> list[str]:
    return run_git(*args, cwd=cwd).decode("utf-8", "replace").splitlines()
