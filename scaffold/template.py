"""The template's questions and task table, read from copier.yml so they are never repeated.

Only PyYAML is imported here (copier is imported by render.py, when a command needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import ScaffoldError

PACKAGE = Path(__file__).resolve().parent


def template_root() -> Path:
    """The folder holding copier.yml: the repository root in a source checkout, or the copy
    that the wheel packages inside scaffold/."""
    for root in (PACKAGE.parent, PACKAGE / "_template"):
        if (root / "copier.yml").is_file() and (root / "templates" / "project").is_dir():
            return root
    raise ScaffoldError("the scaffold template is missing from this installation: reinstall it")


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    help: str
    default: Any  # a value or a Jinja expression evaluated by copier
    choices: tuple[str, ...]  # allowed values; empty when any value of `type` goes


@cache
def copier_config() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when available
    return yaml.load((template_root() / "copier.yml").read_text(encoding="utf-8"), Loader=loader)


@cache
def questions() -> dict[str, Question]:
    """The questions copier asks (computed values, with `when: false`, are left out)."""
    found = {}
    for name, spec in copier_config().items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        choices = spec.get("choices") or {}
        values = [c["value"] if isinstance(c, dict) else c for c in choices.values()]
        found[name] = Question(
            name,
            spec.get("type", "str"),
            spec.get("help", name),
            spec.get("default"),
            tuple(values),
        )
    return found


def task_table() -> dict[str, dict[str, str]]:
    return copier_config()["task_table"]["default"]


def default_text(question: Question) -> str:
    """The default as shown in --help: Jinja expressions become 'depends on ...'."""
    default = question.default
    if isinstance(default, str) and "{{" in default:
        words = re.findall(r"[A-Za-z_]\w*", re.sub(r"'[^']*'", "", default))
        names = [n for n in questions() if n in words]
        return f"depends on {', '.join('--' + n.replace('_', '-') for n in names)}" if names else ""
    return str(default)
