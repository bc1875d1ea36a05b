"""Every released template version, carried by the package, and the changelog that describes them.

`template_history.bundle` (beside this file) is a git bundle with one tag per release. Each
release is a root commit built from copier.yml + templates/ alone with a fixed author and date
(store.py), so its commit is the same on every machine; every scaffold command copies the
releases into the template store, so a project made by any release updates anywhere, offline.

Labels are global: a release's version names one template content everywhere. Releases before
0.6.0 all called themselves 0.1.0 (and template stores numbered later contents 0.1.0.post1,
.post2, ... in the order each machine saw them), so a project that records `0.1.0`, `0.1.0.postN`,
a git hash or nothing names no single template: update.py then finds the release that made it
by comparing renders with the project's own files (base.py). Those releases are carried as 0.2.0
to 0.5.0, built exactly as their own template stores built them.

`python scripts/template_history.py` records a new release in the bundle.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.template import template_root

HISTORY = Path(__file__).resolve().with_name("template_history.bundle")

# The releases before 0.6.0, by the commit of the scaffold repository each was released from.
# They recorded themselves as 0.1.0: their commits carry the message "scaffold template 0.1.0".
LEGACY = {
    "0.2.0": "5c7755a63b79e481e48d924cd34aa4b1a58174b0",  # the CLI and template (issue 2)
    "0.3.0": "03fed11800381a7ff371f5dd6ac79921e8a5c30f",  # messy data, benchmarks (issue 3)
    "0.4.0": "ba1aeb696ba63af5e7863280539bc1ce8c8b4138",  # template store, verified checkpoints
    "0.5.0": "da43c8dbabbeaed6d197d1a418e604218e706b9c",  # torchrun, trackers, plots (issue 6)
}
LEGACY_VERSION = "0.1.0"  # what every one of them called itself
# What projects of those releases may record as _commit: 0.1.0, 0.1.0.postN, or a git hash
# (rendered from a source checkout before the template store existed).
AMBIGUOUS = re.compile(r"0\.1\.0(\.post\d+)?|[0-9a-f]{7,40}(-dirty)?")
UNRELEASED = "+unreleased."  # VERSION+unreleased.TREE: a source checkout's unreleased template


@cache
def releases() -> dict[str, str]:
    """Version -> commit of every release this package carries."""
    from scaffold import store

    if not HISTORY.is_file():
        raise ScaffoldError(f"{HISTORY} is missing from this installation: reinstall scaffold")
    return store.tags(HISTORY)


def changelog_path() -> Path:
    return template_root() / "CHANGELOG.md"


def changelog(after: str, upto: str) -> list[str]:
    """The changelog's headings of the versions in (after, upto], newest first: what an update
    from `after` to `upto` brings."""
    from packaging.version import InvalidVersion, Version

    path = changelog_path()
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"## (\S+)(.*)", line)
        if not match:
            continue
        try:
            version = Version(match[1])
            if Version(after) < version <= Version(upto):
                found.append(line.removeprefix("## "))
        except InvalidVersion:
            continue
    return found
