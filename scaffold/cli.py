"""The `scaffold` command: parse, ask, call render.py. Every user mistake is one line on stderr
and a non-zero exit, never a traceback.

The options of `scaffold new` mirror the questions in copier.yml: their choices, help texts and
defaults are read from there, not repeated here.
"""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from scaffold import __version__
from scaffold.errors import Interrupted, ScaffoldError
from scaffold.template import default_text, questions, task_table


class _OneLineErrors(TyperGroup):
    """Turns usage errors, user errors and Ctrl-C into `scaffold: error: ...` and an exit code."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as e:  # usage errors: bad option values, missing NAME, ...
            if type(e).__name__ == "NoArgsIsHelpError":  # plain `scaffold`: show the help
                typer.echo(e.format_message())
                sys.exit(0)
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx else ""
            message = e.format_message().replace("Value error, ", "")
            _fail(f"{message}{hint}", e.exit_code)
        except ScaffoldError as e:
            _fail(str(e), e.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            code = 130
        if code == 130:  # Ctrl-C: typer turns it into a silent exit 130
            _fail("interrupted: nothing was written", 130)
        sys.exit(code if isinstance(code, int) else 0)


def _check_installation() -> None:
    """A distribution called `scaffold` beside ours (our name before 0.6.0, or the unrelated
    project of that name) shares the `scaffold` command and import name: uninstalling it later
    would delete files of ours."""
    from importlib import metadata

    try:
        other = metadata.distribution("scaffold")
    except metadata.PackageNotFoundError:
        return
    typer.echo(
        f"scaffold: note: the package 'scaffold' {other.version} is installed too (this tool's "
        "name before 0.6.0, or an unrelated project): run `pip uninstall scaffold`, then "
        "`pip install --force-reinstall pytorch-scaffold`",
        err=True,
    )


def _fail(message: str, code: int) -> None:
    typer.echo(f"scaffold: error: {message}", err=True)
    sys.exit(code)


app = typer.Typer(
    cls=_OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

QUESTIONS = questions()


def _choices(name: str) -> type[Enum]:
    """A str Enum of a copier question's choices, so --help lists them and typos are refused."""
    return Enum(name.title(), {value: value for value in QUESTIONS[name].choices}, type=str)


def _help(name: str) -> str:
    question = QUESTIONS[name]
    default = default_text(question)
    return f"{question.help}. [default: {default}]" if default else f"{question.help}."


Task, Input, Model = _choices("task"), _choices("input"), _choices("model")
Optimizer, Scheduler = _choices("optimizer"), _choices("scheduler")
Tracker = _choices("tracker")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Write correct, fast PyTorch training projects from a copier template."""


@app.command()
def new(
    name: Annotated[
        str,
        typer.Argument(help="Project name: ASCII letters, digits, '-', '_'; starts with a letter."),
    ],
    task: Annotated[Task | None, typer.Option(help=_help("task"), show_default=False)] = None,
    input: Annotated[Input | None, typer.Option(help=_help("input"), show_default=False)] = None,
    model: Annotated[Model | None, typer.Option(help=_help("model"), show_default=False)] = None,
    optimizer: Annotated[
        Optimizer | None, typer.Option(help=_help("optimizer"), show_default=False)
    ] = None,
    scheduler: Annotated[
        Scheduler | None, typer.Option(help=_help("scheduler"), show_default=False)
    ] = None,
    lr: Annotated[float | None, typer.Option(help=_help("lr"), show_default=False)] = None,
    batch_size: Annotated[
        int | None, typer.Option(help=_help("batch_size"), show_default=False)
    ] = None,
    epochs: Annotated[int | None, typer.Option(help=_help("epochs"), show_default=False)] = None,
    tracker: Annotated[
        Tracker | None, typer.Option(help=_help("tracker"), show_default=False)
    ] = None,
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            "-d",
            help="Folder to create (default: ./NAME); new or empty.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Never ask: defaults for every option not given.")
    ] = False,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Skip `git init` and the initial commit.")
    ] = False,
) -> None:
    """Create a PyTorch training project.

    Asks each question not given as an option (with its default); with --yes, or when not run
    in a terminal, it asks nothing and takes the defaults.
    """
    from scaffold.render import check_name, create_project

    _check_installation()
    check_name(name)
    given = {
        "project_name": name,
        "task": task,
        "input": input,
        "model": model,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "lr": lr,
        "batch_size": batch_size,
        "epochs": epochs,
        "tracker": tracker,
    }
    data = {k: v.value if isinstance(v, Enum) else v for k, v in given.items() if v is not None}
    interactive = not yes and sys.stdin.isatty() and sys.stdout.isatty()
    target = dest if dest is not None else Path(name)
    start = time.perf_counter()
    try:
        answers, note = create_project(target, data, interactive=interactive, git=not no_git)
    except Interrupted as e:  # Ctrl-C once the project was in place: say so, not "nothing"
        _fail(f"interrupted: {e.done}", 130)
    try:
        seconds = time.perf_counter() - start
        kind = ", ".join(f"{k} {answers[k]}" for k in ("task", "input", "model") if k in answers)
        typer.echo(f"Created {target} ({kind}) in {seconds:.1f}s")
        if note:
            typer.echo(f"note: {note}", err=True)
        typer.echo(
            f"Next:\n  cd {target}\n  pip install '.[dev]'\n" "  python train.py && python eval.py"
        )
    except KeyboardInterrupt:
        _fail(f"interrupted: the project {target} was already complete", 130)


@app.command()
def update(
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="The project folder.", show_default="current folder"),
    ] = Path("."),
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Change an answer (e.g. optimizer=sgd) and re-render at the project's "
            "template version; repeatable.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
) -> None:
    """Bring a project up to this scaffold's template version, keeping your edits.

    Needs a clean git tree. Changes are left uncommitted for you to review. Exits 1 when a file
    has conflicts (marked with <<<<<<< before updating / >>>>>>> after updating).
    """
    from scaffold.history import changelog, changelog_path
    from scaffold.update import parse_settings, update_project

    _check_installation()
    settings = parse_settings(set_ or [])
    done = update_project(path, settings, dry_run=dry_run)
    name = path if path != Path(".") else Path.cwd().name
    if done.note:
        typer.echo(f"note: {done.note}")
    if not done.changes and not done.settings and done.old == done.new and not done.recorded:
        typer.echo(f"{name} is already at template {done.new}; nothing to do")
        return
    verb = "Would update" if dry_run else "Updated"
    answers = {**done.edits, **done.settings}
    if done.settings:
        changed = ", ".join(f"{k}={v}" for k, v in answers.items())
        what = f"with {changed} (template {done.new})"
    else:
        what = f"from template {done.old} to {done.new}"
        if done.edits:
            what += " with " + ", ".join(f"{k}={v}" for k, v in done.edits.items())
    count = len(done.changes)
    typer.echo(f"{verb} {name} {what}: {count} file{'s' * (count != 1)} changed")
    for line in done.changes:
        typer.echo(f"  {line}")
    if done.edits:
        edited = ", ".join(done.edits)
        typer.echo(f"note: applied the answers edited by hand in .copier-answers.yml ({edited})")
    for kept in done.kept:
        typer.echo(f"note: kept {kept}: template {done.new} removes it, but you had changed it")
    entries = changelog(done.old, done.new)
    if entries:
        typer.echo(f"What changed ({changelog_path()}):")
        for entry in entries:
            typer.echo(f"  {entry}")
    if done.conflicts:
        raise ScaffoldError(
            f"{'would conflict' if dry_run else 'conflicts'} in {', '.join(done.conflicts)}: "
            + ("nothing was changed" if dry_run else "resolve the <<<<<<< markers, then commit")
        )
    if not dry_run and count:
        typer.echo("Review with `git diff`, then commit.")


@app.command()
def template() -> None:
    """Show the template store: every released template version, and any other this machine used.

    Adds this scaffold's releases to it first: run this once after upgrading scaffold if you
    update projects with plain `copier update`.
    """
    from scaffold import history, store

    _check_installation()
    current = store.ensure_version()
    versions = sorted(store.tags(store.bundle_path()), key=store.version_key)
    typer.echo(f"template store: {store.source_text()}")
    typer.echo(f"versions: {', '.join(versions)} (this scaffold: {current})")
    legacy = [v for v in versions if history.AMBIGUOUS.fullmatch(v)]
    if legacy:
        typer.echo(
            f"note: {', '.join(legacy)} came from scaffold releases before 0.6.0, which named "
            "different templates alike; `scaffold update` finds the release a project was made with"
        )


@app.command()
def tasks(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
) -> None:
    """Show how each task is wired: head size, loss, activation, target, prediction, metrics."""
    typer.echo(format_task_table(markdown))


class Format(str, Enum):
    text = "text"
    json = "json"


@app.command()
def doctor(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Python files or folders to check. [default: .]", show_default=False),
    ] = None,
    output: Annotated[
        Format, typer.Option("--format", help="text: file:line: CODE message — fix; json: a list.")
    ] = Format.text,
) -> None:
    """Find the classic training-loop mistakes in Python files, without running them.

    Exits 1 when it finds one, 0 when not, 2 when a path is missing or a file cannot be read or
    parsed (2 wins over 1: the other files are still checked and reported).
    Silence one line with `# noqa: TL004` (or `# doctor: ignore`). The checks: see the README.
    """
    from scaffold import doctor as checker

    paths = paths or [Path(".")]
    if missing := [str(p) for p in paths if not p.exists()]:
        raise ScaffoldError(f"no such file or folder: {', '.join(missing)}", exit_code=2)
    findings, problems = checker.check_paths(paths)
    if output == Format.json:
        typer.echo(checker.as_json(findings))
    else:
        for item in findings:
            typer.echo(item.text())
    for problem in problems:
        typer.echo(f"scaffold: error: {problem}", err=True)
    if output == Format.text:
        files = len({f.path for f in findings})
        summary = f"{len(findings)} finding(s) in {files} file(s)" if findings else "no findings"
        unchecked = f"; {len(problems)} file(s) could not be checked" if problems else ""
        typer.echo(summary + unchecked, err=True)
    raise typer.Exit(2 if problems else 1 if findings else 0)


TABLE_COLUMNS = {
    "head": "head size",
    "loss": "training loss",
    "activation": "inference activation",
    "target_dtype": "target dtype",
    "prediction": "prediction",
    "metrics": "metrics",
}


def format_task_table(markdown: bool = False) -> str:
    table = task_table()
    if markdown:
        lines = [
            "| task | " + " | ".join(TABLE_COLUMNS.values()) + " |",
            "|---" * (len(TABLE_COLUMNS) + 1) + "|",
        ]
        lines += [
            f"| {task} | " + " | ".join(row[k] for k in TABLE_COLUMNS) + " |"
            for task, row in table.items()
        ]
        lines.append("| image | same as multiclass, with image input and a small CNN |" + " |" * 5)
        return "\n".join(lines)
    width = max(map(len, TABLE_COLUMNS.values()))
    blocks = [
        task
        + "\n"
        + "\n".join(f"  {TABLE_COLUMNS[k].ljust(width)}  {row[k]}" for k in TABLE_COLUMNS)
        for task, row in table.items()
    ]
    blocks.append("image\n  multiclass on images (--task image = --task multiclass --input image)")
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> None:
    app(args=argv, prog_name="scaffold")
