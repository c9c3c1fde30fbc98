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

#: What an ingest step's closing log line reports.
_INGESTED: dict[str, Callable[[Any], Any]] = {
    "rows": lambda r: r.rows, "requests": lambda r: r.requests, "run_id": lambda r: r.run_id,
}  # fmt: skip

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


def _step(name: str, fn: Callable[[], T], bind_run_id: str | None = None, **done: Callable[[T], Any]) -> T:
    """Run a step inside its log context; expected failures become one error line and exit code 1.

    ``done`` maps field names to functions of the result, logged on the step's closing line.
    """
    from workflows.steps import StepError

    with logs.bound(step=name, run_id=bind_run_id):
        try:
            result = fn()
        except (StepError, ValueError) as exc:
            log.error(f"{name} failed", error=logs.redact(str(exc)))
            raise typer.Exit(1) from None
        log.info(f"{name} done", **{field: get(result) for field, get in done.items()})
        return result


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
    _step("ingest-stocks", lambda: steps.ingest_stocks(settings, date.date(), run_id), run_id, **_INGESTED)


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
    _step(
        "ingest-options",
        lambda: steps.ingest_options(settings, date.date(), tickers, run_id, mode),
        run_id,
        **_INGESTED,
    )


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
    _step(
        "backfill-options",
        lambda: steps.backfill_options(settings, start.date(), end.date(), tickers, run_id),
        run_id,
        **_INGESTED,
    )


@app.command("load")
def load(
    date: DateOpt,
    dataset: Annotated[list[str] | None, typer.Option(help="Only these datasets (repeatable).")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """Load the day's manifests that the warehouse ledger lacks."""
    from workflows import steps

    settings = _settings()
    _step("load", lambda: steps.load(settings, date.date(), dataset), run_id, rows=lambda r: r.rows)


@app.command("transform")
def transform(
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    select: Annotated[str | None, typer.Option(help="dbt selection.")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """dbt build, then source freshness; run_results.json is kept under SMELT_HOME/dbt/target."""
    from workflows import steps

    settings = _settings()
    _step("transform", lambda: steps.transform(settings, full_refresh, select), run_id)


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
    _step(
        "run",
        lambda: steps.run(settings, start.date() if start else None, end.date() if end else None, tickers),
        days=lambda r: len(r.days), first=lambda r: str(r.days[0]), last=lambda r: str(r.days[-1]),
        ingested_rows=lambda r: r.ingested_rows, requests=lambda r: r.requests, loaded_rows=lambda r: r.loaded_rows,
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
