"""Update a project to the installed template version, or change its answers, with copier.

copier does the three-way merge (the old render, the person's project, the new render). Around
it this module adds what copier leaves to the caller: the checks that make an update safe to
run, an exact dry run (the update runs in a throwaway clone), a list of conflicted files, a
non-zero exit when there are any, and no file lost: a file the new template removes is kept
when the person had changed it, and a failed or interrupted update puts the project back.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold import history, store
from scaffold.base import find_base, questions_of, recorded_release
from scaffold.errors import ScaffoldError
from scaffold.git import GitMissing, run_git
from scaffold.render import ANSWERS_FILE, check_name, copier_errors
from scaffold.template import copier_config, questions

UPGRADE = "pip install -U pytorch-scaffold"
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
    recorded: str = ""  # what the answers file said, when it did not name the old version
    note: str | None = None  # how the old version was found
    edits: dict[str, Any] = field(default_factory=dict)  # hand-edited answers applied
    changes: list[str] = field(default_factory=list)  # `git status --short` lines
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # removed by the template, changed by the user


def parse_settings(items: list[str], where: str = "--set") -> dict[str, Any]:
    """`--set key=value` items (or answers edited by hand, `where` says), checked against the
    template's questions before anything runs."""
    asked = questions()
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ScaffoldError(f"{where} expects KEY=VALUE, got {item!r}")
        if key not in asked:
            raise ScaffoldError(f"{where}: unknown answer {key!r} (one of: {', '.join(asked)})")
        question = asked[key]
        if question.choices and text not in question.choices:
            raise ScaffoldError(
                f"{where} {key}: {text!r} is not one of {', '.join(question.choices)}"
            )
        cast = {"int": int, "float": float}.get(question.type, str)
        try:
            settings[key] = cast(text)
        except ValueError:
            raise ScaffoldError(f"{where} {key}: {text!r} is not a valid {question.type}") from None
        if key == "project_name":
            check_name(text)
    return settings


def update_project(path: Path, settings: dict[str, Any], *, dry_run: bool = False) -> Update:
    """Update the project at `path` to the installed template version, or, with `settings`,
    re-render it with those answers changed at its current version."""
    path = path.resolve()
    if not path.is_dir():
        raise ScaffoldError(f"{path} is not a folder")
    answers = _read_answers(path)
    top = _git_top(path)
    _check_clean(path)
    installed = store.ensure_version()
    _check_source(path, answers, installed)
    base = find_base(path, answers)
    if _newer(base.version, installed):
        raise ScaffoldError(
            f"{path.name} uses template {base.version}, newer than this scaffold's {installed}: "
            f"upgrade scaffold ({UPGRADE}) and run `scaffold update` again"
        )
    edited = [f"{k}={v}" for k, v in base.edits.items()]
    for key, value in parse_settings(edited, ANSWERS_FILE).items():
        base.edits[key] = value  # hand-edited answers get the checks of --set
    target = base.version if settings else installed  # --set re-renders at the project's version
    recorded = str(answers.get("_commit") or "")
    result = Update(path, base.version, target, settings, dry_run, note=base.note, edits=base.edits)
    result.recorded = recorded if recorded != base.version else ""
    prepared = None  # the answers copier must read, when the answers file does not hold them
    if base.note is not None or base.edits or not recorded_release(answers):
        prepared = {
            **questions_of(base.answers),
            "_commit": base.version,
            "_src_path": store.source_text(),
        }
    if base.version == target and not settings and prepared is None:
        return result
    if prepared is not None or dry_run:
        _update_in_clone(path, top, result, prepared, {**base.edits, **settings})
    else:
        _update_in_place(path, answers, result, settings)
    return result


def _check_source(path: Path, answers: dict[str, Any], installed: str) -> None:
    """Refuse a project of another template store, or one made by a newer scaffold."""
    source, version = str(answers.get("_src_path") or ""), str(answers.get("_commit") or "")
    bundle = store.bundle_path()
    if source.endswith(store.BUNDLE) and store.expand_source(source).resolve() != bundle.resolve():
        raise ScaffoldError(
            f"{path.name} was made from the template source {source}, not from this scaffold's "
            f"template store {bundle}: point SCAFFOLD_HOME at the folder holding that source, "
            "or run `copier update` there"
        )
    if version and not history.AMBIGUOUS.fullmatch(version) and _newer(version, installed):
        raise ScaffoldError(
            f"{path.name} uses template {version}, newer than this scaffold's {installed}: "
            f"upgrade scaffold ({UPGRADE}) and run `scaffold update` again"
        )


def _newer(version: str, installed: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) > Version(installed)
    except InvalidVersion:
        return False


def _update_in_clone(
    path: Path,
    top: Path,
    result: Update,
    prepared: dict[str, Any] | None,
    data: dict[str, Any],
) -> None:
    """Run the update in a throwaway clone of the project's repository: for a dry run, or to
    give copier answers that the project's answers file does not hold (then commit them there
    first). Unless it is a dry run, the result is then copied into the project."""
    with tempfile.TemporaryDirectory(prefix="scaffold-update.") as tmp:
        clone = Path(tmp) / "project"
        _git(top, "clone", "-q", "--no-hardlinks", str(top), str(clone))
        inside = clone / path.relative_to(top)
        answers = _read_answers(inside)
        if prepared is not None:
            text = yaml.safe_dump(prepared, sort_keys=True, allow_unicode=True)
            (inside / ANSWERS_FILE).write_text(text, encoding="utf-8")
            _commit(inside, ANSWERS_FILE, "scaffold: the answers the project was rendered with")
            answers = prepared
        _update_in_place(inside, answers, result, data)
        if not result.dry_run:
            try:
                _copy_result(inside, path, [line[3:] for line in result.changes])
            except BaseException:
                _restore(path)
                raise
            result.changes = _status(path)


def _copy_result(clone: Path, path: Path, names: list[str]) -> None:
    """Make the project's files and conflict entries those of the updated clone."""
    for name in {*names, ANSWERS_FILE}:
        source, target = clone / name, path / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.is_file() or target.is_symlink():
            target.unlink()
    unmerged = run_git("ls-files", "-u", "-z", "--", ".", cwd=clone).decode("utf-8", "replace")
    lines = []
    for entry in filter(None, unmerged.split("\0")):
        info, name = entry.split("\t", 1)
        mode, sha, stage = info.split()
        blob = run_git("cat-file", "blob", sha, cwd=clone)
        ours = run_git("hash-object", "-w", "--stdin", cwd=path, input=blob).decode().strip()
        if not lines or not lines[-1].endswith(f"\t{name}"):
            lines.append(f"0 {'0' * 40}\t{name}")
        lines.append(f"{mode} {ours} {stage}\t{name}")
    if lines:
        run_git("update-index", "--index-info", cwd=path, input="".join(f"{x}\n" for x in lines))


def _commit(path: Path, name: str, message: str) -> None:
    """Commit one file in a throwaway clone, whatever the user's git configuration."""
    env = dict(os.environ)
    for who in ("AUTHOR", "COMMITTER"):
        env |= {f"GIT_{who}_NAME": "scaffold", f"GIT_{who}_EMAIL": "scaffold@localhost"}
    options = ["-c", "commit.gpgsign=false", "-c", f"core.hooksPath={os.devnull}"]
    run_git("add", "--", name, cwd=path)
    run_git(*options, "commit", "-q", "--no-verify", "-m", message, cwd=path, env=env)


def _update_in_place(
    path: Path, answers: dict[str, Any], result: Update, data: dict[str, Any]
) -> None:
    import copier

    source = str(answers["_src_path"])
    try:
        with copier_errors(source):
            copier.run_update(
                path,
                data=data,
                defaults=True,
                overwrite=True,
                conflict="inline",
                vcs_ref=result.new,
                quiet=True,
                skip_answered=True,
                exclude=_existing_data(path),
            )
        result.changes = _status(path)
        result.kept = _keep_changed_files(path, answers, result)
        result.conflicts = _conflicts(path, result.changes)
    except BaseException:
        _restore(path)
        raise


def _existing_data(path: Path) -> list[str]:
    """The project's data that copier's _skip_if_exists protects, left out of the update's
    renders: copier would render it three times only to skip it (a data file the project lacks
    still arrives)."""
    found = []
    for pattern in copier_config().get("_skip_if_exists", []):
        if pattern.endswith("/**"):
            folder = pattern.removesuffix("/**")
            if (path / folder).is_dir():
                found.append(f"/{glob.escape(folder)}/")
        else:
            found += [f"/{glob.escape(p.relative_to(path).as_posix())}" for p in path.glob(pattern)]
    return found


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
