"""The pipeline's steps as commands: ``smelt ingest …``, ``load``, ``transform``, ``publish``, ``run``, ``summary``.

Dates and underlyings are checked before any work, so a bad argument is exit 2 naming the option; the steps
themselves are imported only when a command runs.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflows import calendar
from workflows.cli.shared import (
    FirstDayOpt,
    FlatFileDatasetsOpt,
    LastDayOpt,
    RunIdOpt,
    UnderlyingsOpt,
    flatfile_datasets,
    run_step,
    settings_or_exit,
)
from workflows.lake import DATASETS
from workflows.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from workflows.steps import Resources

ingest_app = typer.Typer(help="Land trading days of raw API data in the lake.", no_args_is_help=True)


class Mode(StrEnum):
    auto = "auto"
    snapshot = "snapshot"
    backfill = "backfill"
    flatfiles = "flatfiles"
    replay = "replay"


Dataset = StrEnum("Dataset", {name: name for name in DATASETS})  # type: ignore[misc]

#: What an ingest step's closing log line reports.
_INGESTED: dict[str, Callable[[Any], Any]] = {
    "rows": lambda r: r.rows, "requests": lambda r: r.requests, "run_id": lambda r: r.run_id,
}  # fmt: skip

DateOpt = Annotated[
    dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Trading day, YYYY-MM-DD.")
]


def _resources() -> Resources:
    """What a step command's step uses, built from the settings (exit 2 when they are invalid)."""
    from workflows.steps import Resources

    return Resources.from_settings(settings_or_exit())


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


def _closed_range(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    first, last = _range(start, end)
    assert first is not None and last is not None
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
    run_step("ingest-stocks", lambda: steps.ingest_stocks(resources, day, run_id=run_id), run_id, **_INGESTED)


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
    run_step(
        "ingest-options",
        lambda: steps.ingest_options(resources, day, underlyings=tickers, mode=mode.value, run_id=run_id),
        run_id,
        **_INGESTED,
    )


@ingest_app.command("options-backfill")
def ingest_options_backfill(
    start: FirstDayOpt, end: LastDayOpt, underlyings: UnderlyingsOpt = None, run_id: RunIdOpt = None
) -> None:
    """Past days: contracts as of each day, one range-aggs request per contract for the whole range."""
    from workflows import steps

    first, last = _closed_range(start, end)
    tickers = _tickers(underlyings)
    resources = _resources()
    run_step(
        "backfill-options",
        lambda: steps.backfill_options(resources, first, last, underlyings=tickers, run_id=run_id),
        run_id,
        **_INGESTED,
    )


@ingest_app.command("flatfiles")
def ingest_flatfiles(
    start: FirstDayOpt, end: LastDayOpt, datasets: FlatFileDatasetsOpt = None, run_id: RunIdOpt = None
) -> None:
    """The vendor's day-aggregate flat files (every stock, every contract), each object landed verbatim."""
    from workflows import steps

    first, last = _closed_range(start, end)
    chosen = flatfile_datasets(datasets)
    resources = _resources()
    run_step(
        "ingest-flatfiles",
        lambda: steps.ingest_flatfiles(resources, first, last, datasets=chosen, run_id=run_id),
        run_id,
        **_INGESTED,
    )


def load(
    date: DateOpt,
    dataset: Annotated[list[Dataset] | None, typer.Option(help="Only these datasets (repeatable).")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """Load the day's manifests that the warehouse ledger lacks."""
    from workflows import steps

    day = _day(date, "--date")
    resources = _resources()
    run_step(
        "load",
        lambda: steps.load(
            resources, day, datasets=[str(d) for d in dataset] if dataset else None, run_id=run_id
        ),
        run_id,
        rows=lambda r: r.rows,
    )


def transform(
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    full_validation: Annotated[
        bool,
        typer.Option(
            "--full-validation",
            help="Run every data test over whole tables (weekly), not only over the new days; builds even "
            "when nothing is new.",
        ),
    ] = False,
    select: Annotated[str | None, typer.Option(help="dbt selection.")] = None,
    run_id: RunIdOpt = None,
) -> None:
    """dbt build of what was loaded since the last build (tests on those days), then source freshness;
    nothing new, no dbt. run_results.json is kept under SMELT_HOME/dbt/target."""
    from workflows import steps

    resources = _resources()
    run_step(
        "transform",
        lambda: steps.transform(resources, full_refresh=full_refresh, full_validation=full_validation,
                                select=select, run_id=run_id),
        run_id,
        models=lambda r: r.models, tests=lambda r: r.tests, seconds=lambda r: r.seconds,
        scope=lambda r: r.scope, days=lambda r: len(r.days),
    )  # fmt: skip


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
    run_step(
        "run",
        lambda: steps.run(resources, start=first, end=last, underlyings=tickers, run_id=run_id),
        run_id,
        days=lambda r: len(r.days), first=lambda r: str(r.days[0]), last=lambda r: str(r.days[-1]),
        ingested_rows=lambda r: r.ingested_rows, requests=lambda r: r.requests, loaded_rows=lambda r: r.loaded_rows,
        seconds=lambda r: r.seconds,
    )  # fmt: skip


def publish(
    run_id: RunIdOpt = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Rewrite every partition, not only the days loaded since the last publish."
        ),
    ] = False,
) -> None:
    """Publish the marts of the last transform as a new snapshot for the dashboard (after `smelt transform`)."""
    from workflows import steps

    resources = _resources()
    run_step("publish", lambda: steps.publish(resources, run_id=run_id, full=full), run_id,
             version=lambda r: r.version, rows=lambda r: sum(r.rows.values()), seconds=lambda r: r.seconds,
             full=lambda r: r.full, written=lambda r: r.written, reused=lambda r: r.reused)  # fmt: skip


def summary() -> None:
    """What landed: manifests in the lake, rows in the warehouse, marts and their date ranges."""
    from workflows.summary import render

    settings = settings_or_exit()
    sys.stdout.write(render(settings))
