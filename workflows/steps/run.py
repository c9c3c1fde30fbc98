"""``smelt run``: every step for a range of trading days, in order, in one process. No scheduler.

Ingest and load each day, then transform and publish once: dbt's models are incremental over dates, so one
build after the last load gives the same marts as a build per day, in a fraction of the time. The resources
are built once and the plan (which path each day's option chains take) is made once, then handed to the steps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from workflows import calendar, logs
from workflows.lake import new_run_id
from workflows.publish import PublishReport
from workflows.steps.errors import StepError
from workflows.steps.ingest import backfill_flatfiles, backfill_options, ingest_options, ingest_stocks
from workflows.steps.load import load
from workflows.steps.plan import plan, source_now
from workflows.steps.publish import publish
from workflows.steps.resources import Resources
from workflows.steps.transform import TransformReport, transform
from workflows.warehouse import LoadReport

log = logs.get_logger("smelt.steps")

DEFAULT_RUN_DAYS = 30


@dataclass
class RunReport:
    run_id: str
    days: list[dt.date]
    ingested_rows: int = 0
    requests: int = 0
    loaded_rows: int = 0
    transform: TransformReport | None = None
    publish: PublishReport | None = None
    #: Wall-clock seconds per phase (ingest, load, transform, publish), in the order they ran.
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def run_days(start: dt.date | None, end: dt.date | None, now: dt.datetime | None = None) -> list[dt.date]:
    """The trading days of a run: ``start``..``end``, or the last 30 sessions up to ``end`` (default: the
    latest completed one at ``now``, the source's clock)."""
    end = end or calendar.last_completed_trading_day(now)
    if start and start > end:
        raise ValueError(f"--start {start} is after --end {end}")
    return (
        calendar.trading_days(start, end) if start else calendar.previous_trading_days(end, DEFAULT_RUN_DAYS)
    )


def run(
    resources: Resources,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    underlyings: Sequence[str] | None = None,
    run_id: str | None = None,
) -> RunReport:
    """Ingest and load each trading day of the range, then transform and publish once."""
    settings = resources.settings
    settings.dbt_project()  # before any fetch: the transform at the end needs it
    now = source_now(settings)
    days = run_days(start, end, now)
    if not days:
        raise StepError(f"run: no trading days between {start} and {end}", retryable=False)
    report = RunReport(run_id or new_run_id(), days)
    tickers = tuple(underlyings or settings.underlyings)
    paths = plan(settings, days, now)
    snapshots, backfill = paths.days_on("snapshot"), paths.days_on("backfill")
    flatfiles, replays = paths.days_on("flatfiles"), paths.days_on("replay")
    with logs.bound(run_id=report.run_id):
        log.info("run started", days=len(days), first=str(days[0]), last=str(days[-1]), source=settings.source,
                 snapshot_days=len(snapshots), replayed_days=len(replays), backfill_days=len(backfill),
                 flatfile_days=len(flatfiles))  # fmt: skip
        for decided in paths.days:
            log.debug("options path", trade_date=str(decided.day), path=decided.path, reason=decided.reason)
        # Loads run on one thread beside the ingest: a day whose chains are in is loaded (DuckDB, which
        # releases the GIL) while the next day is fetched (Python, which holds it), so two cores both work.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as loader:
            loads: dict[dt.date, Future[LoadReport]] = {}
            with _phase(report, "ingest"):
                ingests = [ingest_stocks(resources, day, run_id=report.run_id) for day in days]
                for day in sorted(snapshots + replays):  # a replayed day is its evening's daily run
                    ingests.append(
                        ingest_options(
                            resources, day, underlyings=tickers, mode=paths.path(day), run_id=report.run_id
                        )
                    )
                    loads[day] = loader.submit(load, resources, day, run_id=report.run_id)
                if backfill:  # one range request per contract, never one per contract per day
                    ingests.append(
                        backfill_options(
                            resources, backfill[0], backfill[-1], underlyings=tickers, run_id=report.run_id
                        )
                    )
                if flatfiles:  # two objects a day for the whole market, plus each underlying's references
                    ingests.append(
                        backfill_flatfiles(
                            resources, flatfiles[0], flatfiles[-1], underlyings=tickers, run_id=report.run_id
                        )
                    )
            report.ingested_rows = sum(i.rows for i in ingests)
            report.requests = sum(i.requests for i in ingests)
            report.warnings = [w for i in ingests for w in i.warnings]
            with _phase(report, "load"):  # what is left to load once the last fetch is in
                for day in days:
                    if day not in loads:
                        loads[day] = loader.submit(load, resources, day, run_id=report.run_id)
                report.loaded_rows = sum(loads[day].result().rows for day in days)
        if settings.source == "simulator" and not settings.simulator.url:
            from workflows.simulator import release_models

            release_models()  # the transform does not need the simulated market's price history in memory
        with _phase(report, "transform"):
            report.transform = transform(resources, run_id=report.run_id)
        with _phase(report, "publish"):
            report.publish = publish(resources, run_id=report.run_id)
    return report


@contextmanager
def _phase(report: RunReport, name: str, clock: Callable[[], float] = time.perf_counter) -> Iterator[None]:
    """Time one phase of the run and say so: where a first run's minutes go."""
    started = clock()
    yield
    report.seconds[name] = round(clock() - started, 1)
    log.info(f"{name} finished", phase=name, seconds=report.seconds[name])
