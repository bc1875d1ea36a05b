"""Record the template of this checkout as release __version__ in scaffold/template_history.bundle.

    python scripts/template_history.py           # after bumping the version and CHANGELOG.md
    python scripts/template_history.py --check   # exit 1 unless the bundle records this template

A recorded version never changes: recording other content under a version that the bundle
already holds is refused (bump the version instead), except with --replace for the newest
version while it has not been released. The releases before 0.6.0 (history.LEGACY) are rebuilt
from this repository's git history when the bundle is missing them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold import __version__, history, store  # noqa: E402
from scaffold.template import copier_config, template_root  # noqa: E402


def add_legacy_releases(bundle: Path) -> None:
    """Add the releases before 0.6.0 that `bundle` lacks, built from this repository's history
    the way their own template stores built them (message "scaffold template 0.1.0")."""
    recorded = store.tags(bundle)
    missing = {v: source for v, source in history.LEGACY.items() if v not in recorded}
    if not missing:
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "history.git"
        store.git("-c", "init.defaultBranch=main", "init", "-q", "--bare", str(repo))
        if recorded:
            store.git("fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*", cwd=repo)
        for version, source in missing.items():
            tree = Path(tmp) / version
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", source, "copier.yml", "templates"],
                cwd=REPO,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            commit = store.commit_template(repo, tree, history.LEGACY_VERSION)
            store.git("tag", version, commit, cwd=repo)
            recorded[version] = commit
        store.git("update-ref", "refs/heads/main", store.latest(recorded), cwd=repo)
        store.write_bundle(repo, bundle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; write nothing")
    parser.add_argument(
        "--replace", action="store_true", help="re-record the newest version (unreleased only)"
    )
    args = parser.parse_args()

    stated = copier_config()["template_version"]["default"]
    if stated != __version__:
        print(f"copier.yml's template_version {stated} is not scaffold's version {__version__}")
        return 1
    bundle = history.HISTORY
    recorded = store.tags(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "scratch.git"
        store.git("init", "-q", "--bare", str(repo))
        commit = store.commit_template(repo, template_root(), __version__)
    if args.check:
        if recorded.get(__version__) == commit:
            print(f"{bundle.name} records this template as {__version__}")
            return 0
        print(
            f"the template differs from what {__version__} recorded: bump the version in "
            "scaffold/__init__.py and copier.yml, add a CHANGELOG.md entry, then run "
            "python scripts/template_history.py"
        )
        return 1
    if recorded.get(__version__, commit) != commit:
        newest = max(recorded, key=store.version_key)
        if not (args.replace and __version__ == newest):
            print(
                f"{__version__} is recorded with other content: bump the version "
                "(--replace only for the newest version, and only if it was never released)"
            )
            return 1
    add_legacy_releases(bundle)
    store.record_release(bundle, template_root(), __version__)
    recorded = store.tags(bundle)
    for version in sorted(recorded, key=store.version_key):
        print(f"{version}  {recorded[version]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
