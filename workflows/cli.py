"""``smelt``: the command line of the pipeline and of each container step.

Every command reads settings from the environment, logs as structured lines, and exits non-zero with
one message naming what failed: 2 for bad settings or arguments, 1 for a failed step.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from workflows import logs
from workflows.settings import Settings, SettingsError, load_settings

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
ingest_app = typer.Typer(help="Land one trading day of raw API data in the lake.", no_args_is_help=True)
sim_app = typer.Typer(help="The built-in Polygon-compatible market simulator.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(sim_app, name="sim")

log = logs.get_logger("smelt.cli")
T = TypeVar("T")

DateOpt = Annotated[
    dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Trading day, YYYY-MM-DD.")
]
RunIdOpt = Annotated[str | None, typer.Option(help="Run id for manifests (Argo passes the workflow name).")]
UnderlyingsOpt = Annotated[
    str | None, typer.Option(help="Comma-separated underlyings; default SMELT_UNDERLYINGS.")
]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        logs.configure()
        log.error(str(exc))
        raise typer.Exit(2) from None
    logs.configure(settings.log_format, settings.log_level, secrets=settings.secrets())
    return settings


def _step(name: str, fn: Callable[[], T]) -> T:
    """Run a step; expected failures become one error line and exit code 1, never a traceback."""
    from workflows.steps import StepError

    try:
        return fn()
    except (StepError, ValueError) as exc:
        log.error(f"{name} failed", error=logs.redact(str(exc)))
        raise typer.Exit(1) from None


def _tickers(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        return load_settings(underlyings=value).underlyings
    except SettingsError as exc:
        raise typer.BadParameter(str(exc).replace("SMELT_UNDERLYINGS", "--underlyings")) from None


@ingest_app.command("stocks")
def ingest_stocks(date: DateOpt, run_id: RunIdOpt = None) -> None:
    """Grouped daily bars for the whole market and the day's splits."""
    from workflows import steps

    settings = _settings()
    report = _step("ingest-stocks", lambda: steps.ingest_stocks(settings, date.date(), run_id))
    log.info("ingest-stocks done", rows=report.rows, requests=report.requests, run_id=report.run_id)


@ingest_app.command("options")
def ingest_options(
    date: DateOpt,
    underlyings: UnderlyingsOpt = None,
    run_id: RunIdOpt = None,
    mode: Annotated[str, typer.Option(help="auto | snapshot | backfill")] = "auto",
) -> None:
    """Option contracts and the end-of-day chain per underlying (backfill: per-contract bars)."""
    from workflows import steps

    settings = _settings()
    tickers = _tickers(underlyings)
    report = _step(
        "ingest-options", lambda: steps.ingest_options(settings, date.date(), tickers, run_id, mode)
    )
    log.info("ingest-options done", rows=report.rows, requests=report.requests, run_id=report.run_id)


@ingest_app.command("options-backfill")
def ingest_options_backfill(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])],
    end: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])],
    underlyings: UnderlyingsOpt = None,
    run_id: RunIdOpt = None,
) -> None:
    """Past days: contracts as of each day, one range-aggs request per contract for the whole range."""
    from workflows import steps

    settings = _settings()
    tickers = _tickers(underlyings) or settings.underlyings
    report = _step(
        "backfill-options",
        lambda: steps.backfill_options(settings, start.date(), end.date(), tickers, run_id),
    )
    log.info("backfill-options done", rows=report.rows, requests=report.requests, run_id=report.run_id)


@app.command("load")
def load(
    date: DateOpt,
    dataset: Annotated[list[str] | None, typer.Option(help="Only these datasets (repeatable).")] = None,
) -> None:
    """Load the day's manifests that the warehouse ledger lacks."""
    from workflows import steps

    settings = _settings()
    _step("load", lambda: steps.load(settings, date.date(), dataset))


@app.command("transform")
def transform(
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    select: Annotated[str | None, typer.Option(help="dbt selection.")] = None,
) -> None:
    """dbt build, then source freshness; run_results.json is kept under SMELT_HOME/dbt/target."""
    from workflows import steps

    settings = _settings()
    _step("transform", lambda: steps.transform(settings, full_refresh, select))


@app.command("run")
def run(
    start: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day.")] = None,
    end: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day.")] = None,
    underlyings: UnderlyingsOpt = None,
) -> None:
    """Ingest, load and transform a range of trading days (default: the last 30) in one process."""
    from workflows import steps

    settings = _settings()
    tickers = _tickers(underlyings)
    report = _step(
        "run",
        lambda: steps.run(settings, start.date() if start else None, end.date() if end else None, tickers),
    )
    log.info(
        "run finished", days=len(report.days), first=str(report.days[0]), last=str(report.days[-1]),
        ingested_rows=report.ingested_rows, requests=report.requests, loaded_rows=report.loaded_rows,
    )  # fmt: skip


@app.command("summary")
def summary() -> None:
    """What landed: manifests in the lake, rows in the warehouse, marts and their date ranges."""
    from workflows.summary import render

    settings = _settings()
    sys.stdout.write(render(settings))


@sim_app.command("serve")
def sim_serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8700,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Market seed (default SMELT_SIM_SEED).")] = None,
    faults: Annotated[str | None, typer.Option(help="Fault spec, e.g. rate_429=0.3,retry_after=1")] = None,
) -> None:
    """Serve the simulator over HTTP, e.g. for POLYGON_BASE_URL=http://127.0.0.1:8700."""
    from workflows import simulator

    settings = _settings()
    parsed: Any = simulator.Faults.parse(faults) if faults else None
    simulator.serve(host=host, port=port, seed=settings.sim_seed if seed is None else seed, faults=parsed)


def main() -> None:  # pragma: no cover - console entry point
    app()
