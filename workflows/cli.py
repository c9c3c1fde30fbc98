"""``smelt``: the command line of the pipeline and of each container step.

Every command reads settings from the environment, logs structured lines, and ends a failure with one line
that says what failed and what to do. Exit codes: 0 done; 1 the step failed and running it again may
succeed (network, throttling, a lock); 2 bad arguments or settings; 3 the step failed and will fail again
until something is fixed (the API key, a corrupt file, a failed data test).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

# typer vendors click since 0.22: its usage errors are these classes, not the click package's.
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from workflows import calendar, logs
from workflows.argo import commands as argo_commands
from workflows.lake import DATASETS
from workflows.settings import Settings, SettingsError, load_settings
from workflows.warehouse import snowflake_scripts

if TYPE_CHECKING:
    from workflows.steps import Resources

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
ingest_app = typer.Typer(help="Land trading days of raw API data in the lake.", no_args_is_help=True)
sim_app = typer.Typer(help="The built-in Polygon-compatible market simulator.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(sim_app, name="sim")
app.add_typer(snowflake_scripts.cli, name="snowflake")
app.add_typer(argo_commands.argo_app, name="argo")
app.add_typer(argo_commands.calendar_app, name="calendar")
app.command("doctor")(argo_commands.doctor)


#: Packages only the ``dashboard`` extra installs; the pipeline image has none of them.
_DASHBOARD_MODULES = frozenset({"dashboard", "dash", "dash_ag_grid", "plotly", "gunicorn"})


@app.command(
    "dashboard",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def dashboard(ctx: typer.Context) -> None:
    """The options-analytics dashboard: serve, publish a snapshot, hash a password (the dashboard extra)."""
    # Imported when the command runs, never with the pipeline: its image ships without the dashboard.
    try:
        from dashboard import cli as dashboard_cli

        command = typer.main.get_command(dashboard_cli.app)
        command.main(args=ctx.args, prog_name="smelt dashboard")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _DASHBOARD_MODULES:
            raise
        sys.stderr.write(
            f"smelt dashboard: this installation has no dashboard ({exc.name} is missing): install the "
            "'dashboard' extra (pip install 'smelt[dashboard]') or run the smelt-dashboard image\n"
        )
        raise typer.Exit(EXIT_USAGE) from None


log = logs.get_logger("smelt.cli")
T = TypeVar("T")

EXIT_RETRYABLE, EXIT_USAGE, EXIT_PERMANENT = 1, 2, 3


class Mode(StrEnum):
    auto = "auto"
    snapshot = "snapshot"
    backfill = "backfill"


Dataset = StrEnum("Dataset", {name: name for name in DATASETS})  # type: ignore[misc]

#: What an ingest step's closing log line reports.
_INGESTED: dict[str, Callable[[Any], Any]] = {
    "rows": lambda r: r.rows, "requests": lambda r: r.requests, "run_id": lambda r: r.run_id,
}  # fmt: skip

DateOpt = Annotated[
    dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Trading day, YYYY-MM-DD.")
]
RunIdOpt = Annotated[
    str | None,
    typer.Option(
        help="Run id for manifests (Argo passes the workflow name); a re-run with the same id resumes."
    ),
]
UnderlyingsOpt = Annotated[
    str | None, typer.Option(help="Comma-separated underlyings; default SMELT_UNDERLYINGS.")
]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        logs.configure()
        log.error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    logs.configure(settings.log_format, settings.log_level, secrets=settings.secrets())
    return settings


def _resources() -> Resources:
    """What a step command's step uses, built from the settings (exit 2 when they are invalid)."""
    from workflows.steps import Resources

    return Resources.from_settings(_settings())


def _step(name: str, fn: Callable[[], T], run_id: str | None = None, /, **done: Callable[[T], Any]) -> T:
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


def _day(value: dt.datetime, option: str, *, trading: bool = True) -> dt.date:
    """A date argument checked before any work: inside the calendar, closed, and a session if ``trading``."""
    day = value.date()
    try:
        calendar.ensure_known(day)
        latest = calendar.last_completed_trading_day()
        if day > latest:
            raise typer.BadParameter(
                f"{day} has not closed yet; the latest completed NYSE session is {latest}", param_hint=option
            )
        if trading and not calendar.is_trading_day(day):
            why = calendar.holiday_names(day, day).get(day, "a weekend")
            before = calendar.previous_trading_days(day, 1)[0]
            raise typer.BadParameter(
                f"{day} is not an NYSE trading day ({why}); the session before it is {before}",
                param_hint=option,
            )
    except calendar.CalendarRangeError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    return day


def _range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.date | None, dt.date | None]:
    first = _day(start, "--start", trading=False) if start else None
    last = _day(end, "--end", trading=False) if end else None
    if first and last and first > last:
        raise typer.BadParameter(f"{first} is after --end {last}; swap them", param_hint="--start")
    return first, last


def _tickers(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        return load_settings(underlyings=value).underlyings
    except SettingsError as exc:
        detail = str(exc).removeprefix("invalid settings: ").replace("SMELT_UNDERLYINGS=", "")
        raise typer.BadParameter(detail, param_hint="--underlyings") from None


@ingest_app.command("stocks")
def ingest_stocks(date: DateOpt, run_id: RunIdOpt = None) -> None:
    """Grouped daily bars for the whole market and the day's splits."""
    from workflows import steps

    day = _day(date, "--date")
    resources = _resources()
    _step("ingest-stocks", lambda: steps.ingest_stocks(resources, day, run_id=run_id), run_id, **_INGESTED)


@ingest_app.command("options")
def ingest_options(
    date: DateOpt,
    underlyings: UnderlyingsOpt = None,
    run_id: RunIdOpt = None,
    mode: Annotated[Mode, typer.Option(help="Where chains come from.")] = Mode.auto,
) -> None:
    """Option contracts and the end-of-day chain per underlying (backfill: per-contract bars)."""
    from workflows import steps

    day = _day(date, "--date")
    tickers = _tickers(underlyings)
    resources = _resources()
    _step(
        "ingest-options",
        lambda: steps.ingest_options(resources, day, underlyings=tickers, mode=mode.value, run_id=run_id),
        run_id,
        **_INGESTED,
    )


@ingest_app.command("options-backfill")
def ingest_options_backfill(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First day.")],
    end: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day.")],
    underlyings: UnderlyingsOpt = None,
    run_id: RunIdOpt = None,
) -> None:
    """Past days: contracts as of each day, one range-aggs request per contract for the whole range."""
    from workflows import steps

    first, last = _range(start, end)
    assert first is not None and last is not None
    tickers = _tickers(underlyings)
    resources = _resources()
    _step(
        "backfill-options",
        lambda: steps.backfill_options(resources, first, last, underlyings=tickers, run_id=run_id),
        run_id,
        **_INGESTED,
    )


@app.command("load")
def load(
    date: DateOpt,
    dataset: Annotated[list[Dataset] | None, typer.Option(help="Only these datasets (repeatable).")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """Load the day's manifests that the warehouse ledger lacks."""
    from workflows import steps

    day = _day(date, "--date")
    resources = _resources()
    _step(
        "load",
        lambda: steps.load(
            resources, day, datasets=[str(d) for d in dataset] if dataset else None, run_id=run_id
        ),
        run_id,
        rows=lambda r: r.rows,
    )


@app.command("transform")
def transform(
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    select: Annotated[str | None, typer.Option(help="dbt selection.")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """dbt build, then source freshness; run_results.json is kept under SMELT_HOME/dbt/target."""
    from workflows import steps

    resources = _resources()
    _step(
        "transform",
        lambda: steps.transform(resources, full_refresh=full_refresh, select=select, run_id=run_id),
        run_id,
        models=lambda r: r.models, tests=lambda r: r.tests, seconds=lambda r: r.seconds,
    )  # fmt: skip


@app.command("run")
def run(
    start: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day.")] = None,
    end: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day.")] = None,
    underlyings: UnderlyingsOpt = None,
    run_id: RunIdOpt = None,
) -> None:
    """Ingest, load, transform and publish a range of trading days (default: the last 30) in one process."""
    from workflows import steps

    first, last = _range(start, end)
    tickers = _tickers(underlyings)
    resources = _resources()
    _step(
        "run",
        lambda: steps.run(resources, start=first, end=last, underlyings=tickers, run_id=run_id),
        run_id,
        days=lambda r: len(r.days), first=lambda r: str(r.days[0]), last=lambda r: str(r.days[-1]),
        ingested_rows=lambda r: r.ingested_rows, requests=lambda r: r.requests, loaded_rows=lambda r: r.loaded_rows,
        seconds=lambda r: r.seconds,
    )  # fmt: skip


@app.command("publish")
def publish(run_id: RunIdOpt = None) -> None:
    """Publish the marts of the last transform as a new snapshot for the dashboard (after `smelt transform`)."""
    from workflows import steps

    resources = _resources()
    _step("publish", lambda: steps.publish(resources, run_id=run_id), run_id,
          version=lambda r: r.version, rows=lambda r: sum(r.rows.values()), seconds=lambda r: r.seconds)  # fmt: skip


@app.command("summary")
def summary() -> None:
    """What landed: manifests in the lake, rows in the warehouse, marts and their date ranges."""
    from workflows.summary import render

    settings = _settings()
    sys.stdout.write(render(settings))


@sim_app.command("serve")
def sim_serve(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8700,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Market seed (default SMELT_SIM_SEED).")] = None,
    faults: Annotated[str | None, typer.Option(help="Fault spec, e.g. rate_429=0.3,retry_after=1")] = None,
) -> None:
    """Serve the simulator over HTTP, e.g. for SMELT_SIM_URL=http://127.0.0.1:8700."""
    from workflows import simulator

    settings = _settings()
    try:
        parsed: Any = simulator.Faults.parse(faults) if faults else None
    except simulator.FaultsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    simulator.serve(host=host, port=port, seed=settings.sim_seed if seed is None else seed, faults=parsed,
                    now=settings.sim_now, snapshot_history=settings.sim_snapshot_history,
                    market_size=settings.sim_market_size)  # fmt: skip


def main() -> None:
    """The console entry point: a usage error is one line naming the option, exit code 2."""
    try:
        code = app(prog_name="smelt", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        sys.stdout.write(exc.format_message() + "\n")
        code = 0
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "smelt"
        message = " ".join(exc.format_message().replace("Value error, ", "").split())
        sys.stderr.write(f"{where}: error: {message} (see `{where} --help`)\n")
        code = EXIT_USAGE
    except typer.Abort:
        sys.stderr.write("smelt: interrupted\n")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
