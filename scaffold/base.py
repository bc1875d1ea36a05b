"""Which template and which answers a project's files were rendered with: the base of copier's
three-way merge, which must be exact (merging from the wrong base silently keeps stale lines).

Usually the answers file says it: `_commit` names a release and a checksum line covers the
answers. Two cases need more:

- A release before 0.6.0 recorded `0.1.0`, `0.1.0.postN` (numbered per machine), a git hash or
  nothing, which names no single template. The release is found by rendering each candidate with
  the project's answers and comparing with the project's own files at the commit where the
  answers file took its current `_commit` (its first render, usually scaffold new's commit).
- An answer edited by hand. copier renders the base with the edited answer, so the change would
  never reach the files. The answers the files were rendered with are the newest version of the
  answers file in git whose checksum holds (or, for files without a checksum, the answers whose
  render matches the files); the edit is then applied like `--set`.
"""

from __future__ import annotations

import hashlib
import itertools
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
from scaffold.errors import ScaffoldError
from scaffold.git import run_git
from scaffold.render import ANSWERS_FILE, copier_errors

CHECKSUM = re.compile(r"^# .*\(answers checksum ([0-9a-f]{16})\)$", re.MULTILINE)
# Left out of comparisons: the sample data belongs to the person once the project exists.
USER_FILES = ("data/",)


@dataclass
class Base:
    version: str  # the template version to merge from
    answers: dict[str, Any]  # the answers the project's files were rendered with
    edits: dict[str, Any] = field(default_factory=dict)  # hand-edited answers to apply
    note: str | None = None  # how the version was found, when the answers file did not say


@dataclass
class Reference:
    """The commit where the answers file took its current _commit, and its answers then."""

    commit: str
    answers: dict[str, Any]


def checksum(answers: dict[str, Any]) -> str:
    """The answers file's checksum of the questions' answers (the template computes the same)."""
    text = "".join(f"{k}={v};" for k, v in sorted(answers.items()) if not k.startswith("_"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def questions_of(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if not k.startswith("_")}


def recorded_release(answers: dict[str, Any]) -> bool:
    """True when the answers file names one template: a release (or an unreleased label this
    machine's store holds, which names its content) in this scaffold's template store."""
    source, version = str(answers.get("_src_path") or ""), str(answers.get("_commit") or "")
    if not source or store.expand_source(source).resolve() != store.bundle_path().resolve():
        return False
    if version in history.releases():
        return True
    return history.UNRELEASED in version and version in store.tags(store.bundle_path())


def find_base(path: Path, answers: dict[str, Any]) -> Base:
    """The base of an update of the (clean, committed) project at `path`."""
    version = str(answers.get("_commit") or "")
    if recorded_release(answers):
        found = CHECKSUM.search((path / ANSWERS_FILE).read_text(encoding="utf-8"))
        if found and found[1] == checksum(answers):
            return Base(version, answers)
        if found:
            previous = _last_rendered_answers(path)
            if previous is None:
                raise ScaffoldError(
                    f"{ANSWERS_FILE} was edited by hand and its git history has no version "
                    "scaffold wrote: put the file back and change answers with --set KEY=VALUE"
                )
            return Base(version, {**previous, **_private(answers)}, _edits(previous, answers))
        return _with_hand_edits(path, version, _reference(path, answers), answers)
    reference = _reference(path, answers)
    found, note = _identify(path, reference)
    return _with_hand_edits(path, found, reference, answers, note)


def _private(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if k.startswith("_")}


def _edits(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old, new = questions_of(before), questions_of(after)
    removed = sorted(set(old) - set(new))
    if removed:
        raise ScaffoldError(
            f"{ANSWERS_FILE}: the answer {removed[0]!r} was removed by hand: put it back "
            "(change answers with --set KEY=VALUE)"
        )
    return {k: v for k, v in new.items() if old.get(k) != v}


def _load(text: str) -> dict[str, Any] | None:
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return found if isinstance(found, dict) else None


def _answers_log(path: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(commit, answers, text) of each committed version of the answers file, newest first."""
    commits = run_git("log", "--format=%H", "--", ANSWERS_FILE, cwd=path).decode().split()
    found = []
    for commit in commits:
        try:
            text = run_git("show", f"{commit}:./{ANSWERS_FILE}", cwd=path).decode("utf-8")
        except (ScaffoldError, UnicodeDecodeError):
            continue  # deleted in that commit, or not text
        answers = _load(text)
        if answers is not None:
            found.append((commit, answers, text))
    return found


def _last_rendered_answers(path: Path) -> dict[str, Any] | None:
    """The newest committed answers whose checksum holds: the last ones the template wrote."""
    for _, answers, text in _answers_log(path):
        found = CHECKSUM.search(text)
        if found and found[1] == checksum(answers):
            return answers
    return None


def _reference(path: Path, answers: dict[str, Any]) -> Reference:
    """The oldest commit from which on the answers file has recorded the same template."""
    same = ("_commit", "_src_path")
    reference = None
    for commit, old, _ in _answers_log(path):
        if any(old.get(k) != answers.get(k) for k in same):
            break
        reference = Reference(commit, old)
    if reference is None:  # not committed: compare with the working tree's files
        return Reference("HEAD", answers)
    return reference


def _candidates(recorded: str) -> tuple[list[str], list[str]]:
    """The releases that may have made a project recording `recorded`: the likely ones (tried
    first), then the rest. Releases 0.4.0 and 0.5.0 recorded 0.1.0 or 0.1.0.postN; 0.2.0 and
    0.3.0, rendered from a source checkout, a git hash; a render without git, nothing."""
    releases = history.releases()
    every = sorted(releases, key=store.version_key)
    local = store.tags(store.bundle_path()).get(recorded)
    if local and local not in releases.values():  # a label only this machine's store knows
        every.append(recorded)
    if re.fullmatch(r"0\.1\.0(\.post\d+)?", recorded):
        likely = ["0.4.0", "0.5.0", *every[len(releases) :]]
    elif recorded and history.AMBIGUOUS.fullmatch(recorded):
        likely = ["0.2.0", "0.3.0"]
    else:
        likely = every
    return likely, [v for v in every if v not in likely]


def _identify(path: Path, reference: Reference) -> tuple[str, str]:
    """The release whose render matches the project's files at the reference commit best."""
    recorded = str(reference.answers.get("_commit") or "")
    theirs = _tree(path, reference.commit)
    scores: dict[str, tuple[int, int]] = {}
    renders: dict[str, dict[str, str]] = {}
    likely, rest = _candidates(recorded)
    with Renderer() as render:
        for group in (likely, rest):
            for version in group:
                ours = render(version, reference.answers)
                if ours is None:
                    continue
                same = sum(theirs.get(name) == sha for name, sha in ours.items())
                scores[version], renders[version] = (same, same - len(ours)), ours
            if any(missing == 0 and same for same, missing in scores.values()):
                break  # an exact match among the likely ones
    what = f"records template {recorded!r}" if recorded else "records no template version"
    # Best first; among releases that render the same files, the oldest.
    ranked = sorted(scores, key=lambda v: scores[v], reverse=True)
    if not ranked or scores[ranked[0]][0] == 0:
        raise ScaffoldError(
            f"{path.name} {what}, and no scaffold release renders any of its files: it was not "
            "made by scaffold, or its files were all changed"
        )
    best = ranked[0]
    for other in ranked[1:]:
        if scores[other] != scores[best]:
            break
        if renders[other] != renders[best]:
            raise ScaffoldError(
                f"{path.name} {what}, and its files match templates {best} and {other} "
                "equally: scaffold cannot tell which one made it"
            )
    same, missing = scores[best][0], -scores[best][1]
    kind = "all" if not missing else f"{same} of {same + missing}"
    note = (
        f"{path.name} {what}, which names no single template: its files match template "
        f"{best} ({kind} files identical at commit {reference.commit[:8]}"
        + (", the rest count as your edits)" if missing else ")")
    )
    return best, note


def _with_hand_edits(
    path: Path, version: str, reference: Reference, answers: dict[str, Any], note: str | None = None
) -> Base:
    """For answers files without a checksum: of the answers changed since the reference
    commit, those the files follow were applied (--set); the others were edited by hand."""
    before, after = questions_of(reference.answers), questions_of(answers)
    if before == after:
        return Base(version, answers, note=note)
    _edits(before, after)  # refuses removed answers
    changed = sorted(k for k in after if before.get(k) != after[k])
    if len(changed) > 3:
        raise ScaffoldError(
            f"{ANSWERS_FILE} changed {len(changed)} answers since commit "
            f"{reference.commit[:8]} ({', '.join(changed)}), too many to tell which ones the "
            "files follow: put the file back and change answers with --set KEY=VALUE"
        )
    theirs = _tree(path, "HEAD")
    tried = []  # (files identical to the project's, applied answers, render); most applied first
    with Renderer() as render:
        for size in range(len(changed), -1, -1):
            for applied in itertools.combinations(changed, size):
                files = render(version, {**before, **{k: after[k] for k in applied}}) or {}
                same = sum(theirs.get(name) == sha for name, sha in files.items())
                tried.append((same, applied, files))
    best = max(tried, key=lambda t: t[0])
    if any(t[0] == best[0] and t[2] != best[2] for t in tried):
        raise ScaffoldError(
            f"{ANSWERS_FILE} was changed since commit {reference.commit[:8]} and the project's "
            "files do not tell which answers they were rendered with: put the file back and "
            "change answers with --set KEY=VALUE"
        )
    rendered = {**before, **{k: after[k] for k in best[1]}}
    edits = {k: after[k] for k in changed if k not in best[1]}
    return Base(version, {**rendered, **_private(answers)}, edits, note)


def _tree(path: Path, commit: str) -> dict[str, str]:
    """Path (relative to the project) -> blob of every file of the project at `commit`."""
    listing = run_git("ls-tree", "-r", "-z", commit, "--", ".", cwd=path).decode("utf-8", "replace")
    found = {}
    for entry in filter(None, listing.split("\0")):
        info, name = entry.split("\t", 1)
        if info.split()[1] == "blob":
            found[name] = info.split()[2]
    return found


class Renderer:
    """Renders template versions from one copy of the template store (a plain folder per version:
    faster than letting copier clone the store each time)."""

    def __enter__(self) -> Renderer:
        self.tmp = tempfile.TemporaryDirectory(prefix="scaffold-base.")
        self.root = Path(self.tmp.name)
        self.repo = self.root / "store.git"
        store.git("init", "-q", "--bare", str(self.repo))
        store.git("fetch", "-q", str(store.bundle_path()), "refs/tags/*:refs/tags/*", cwd=self.repo)
        return self

    def __exit__(self, *exc: object) -> None:
        self.tmp.cleanup()

    def __call__(self, version: str, answers: dict[str, Any]) -> dict[str, str] | None:
        """Path -> blob of every file template `version` renders for `answers` (sample data and
        the answers file left out), or None when it cannot render them."""
        import copier

        source, out = self.root / f"template-{version}", self.root / f"render-{version}"
        shutil.rmtree(out, ignore_errors=True)
        if not source.is_dir():
            source.mkdir()
            archive = run_git("archive", f"refs/tags/{version}", cwd=self.repo)
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        try:
            with copier_errors(str(source)):
                copier.run_copy(
                    str(source), out, data=questions_of(answers), defaults=True, quiet=True,
                    exclude=[*USER_FILES, ANSWERS_FILE],
                )  # fmt: skip
        except ScaffoldError:
            return None
        names = sorted(
            Path(folder, name).relative_to(out).as_posix()
            for folder, _, files in os.walk(out)
            for name in files
        )
        if not names:
            return {}
        listing = "".join(f"{n}\n" for n in names)
        shas = run_git("hash-object", "--no-filters", "--stdin-paths", cwd=out, input=listing)
        return dict(zip(names, shas.decode().split(), strict=True))
