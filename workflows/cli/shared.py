"""What the command modules share: the exit codes, the settings loader that exits 2, the step runner that
turns a failure into its exit code, and the options more than one command takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from workflows import logs
from workflows.settings import Settings, SettingsError, load_settings

EXIT_RETRYABLE, EXIT_USAGE, EXIT_PERMANENT = 1, 2, 3

log = logs.get_logger("smelt.cli")
T = TypeVar("T")

RunIdOpt = Annotated[
    str | None,
    typer.Option(
        help="Run id for manifests (Argo passes the workflow name); a re-run with the same id resumes."
    ),
]
UnderlyingsOpt = Annotated[
    str | None, typer.Option(help="Comma-separated underlyings; default SMELT_UNDERLYINGS.")
]
FirstDayOpt = Annotated[dt.datetime, typer.Option("--start", formats=["%Y-%m-%d"], help="First day.")]
LastDayOpt = Annotated[dt.datetime, typer.Option("--end", formats=["%Y-%m-%d"], help="Last day.")]
FlatFileDatasetsOpt = Annotated[
    str | None, typer.Option(help="Comma-separated flat-file datasets: stocks, options (default both).")
]
OutDir = Annotated[Path, typer.Option(help="Folder for Argo output parameters (one file each).")]


def settings_or_exit() -> Settings:
    """The settings, with logging configured from them; invalid settings are one error line and exit 2."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        logs.configure()
        log.error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    logs.configure(settings.log_format, settings.log_level, secrets=settings.secrets())
    return settings


def flatfile_datasets(value: str | None) -> tuple[str, ...]:
    """The lake datasets of a ``--datasets`` value, or a usage error naming the option."""
    from workflows.flatfiles import dataset_names

    try:
        return dataset_names(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--datasets") from None


def bad_arguments(message: str) -> typer.Exit:
    """Log why the arguments describe nothing to do; raise the returned exit (code 2)."""
    log.error(message)
    return typer.Exit(EXIT_USAGE)


def run_step(name: str, fn: Callable[[], T], run_id: str | None = None, /, **done: Callable[[T], Any]) -> T:
    """Run a step inside its log context; a failure becomes one error line and exit code 1, 2 or 3.

    ``done`` maps field names to functions of the result, logged on the step's closing line.
    """
    from workflows.steps import StepError

    with logs.bound(step=name, run_id=run_id):
        try:
            result = fn()
        except StepError as exc:
            code = EXIT_RETRYABLE if exc.retryable else EXIT_PERMANENT
            hint = "running it again may succeed" if exc.retryable else "fix the cause, then run it again"
            log.error(f"{name} failed: {hint}", error=logs.redact(str(exc)), exit_code=code)
            raise typer.Exit(code) from None
        except ValueError as exc:  # an argument the step itself refused (a date, a dataset, a mode)
            log.error(f"{name}: invalid argument", error=logs.redact(str(exc)), exit_code=EXIT_USAGE)
            raise typer.Exit(EXIT_USAGE) from None
        log.info(f"{name} done", **{field: get(result) for field, get in done.items()})
        return result


def write_outputs(out_dir: Path, **values: str) -> None:
    """One file per Argo output parameter, named after it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (out_dir / name).write_text(value)
