"""``smelt run``: every step for a range of trading days, in order, in one process. No scheduler.

Ingest and load each day, then transform and publish once: dbt's models are incremental over dates, so one
build after the last load gives the same marts as a build per day, in a fraction of the time. The resources
are built once and the plan (which path each day's option chains take) is made once, then handed to the steps.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from workflows import alerts, calendar, logs, run_reports
from workflows.lake import new_run_id
from workflows.publish import PublishReport
from workflows.settings import Settings
from workflows.steps.errors import StepError, retryable
from workflows.steps.ingest import backfill_flatfiles, backfill_options, ingest_options, ingest_stocks
from workflows.steps.load import load
from workflows.steps.plan import plan, source_now
from workflows.steps.publish import publish
from workflows.steps.resources import Resources
from workflows.steps.transform import TransformReport, transform
from workflows.warehouse import LoadReport

log = logs.get_logger("smelt.steps")

DEFAULT_RUN_DAYS = 30
#: The run's phases in order: the first one without a time is the one that failed.
PHASES = ("ingest", "load", "transform", "publish")
#: The exit codes `smelt run` ends with (workflows/cli/shared.py), recorded in a failed run's report.
EXIT_CODE_RETRYABLE, EXIT_CODE_PERMANENT = 1, 3
#: What an embedded run's steps and failed node name as their template (an Argo run names its own).
RUN_TEMPLATE = "smelt run"


@dataclass
class RunReport:
    run_id: str
    days: list[dt.date]
    ingested_rows: int = 0
    requests: int = 0
    loaded_rows: int = 0
    transform: TransformReport | None = None
    publish: PublishReport | None = None
    #: Wall-clock seconds per finished phase (ingest, load, transform, publish), in the order they ran.
    seconds: dict[str, float] = field(default_factory=dict)
    #: Each phase that started, failed ones included: the run report's ``steps`` (decision 114).
    steps: list[run_reports.StepTime] = field(default_factory=list)
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
    started = dt.datetime.now(dt.UTC)
    try:
        _run(resources, report, now, tuple(underlyings or settings.underlyings))
    except Exception as exc:
        _store_report(resources, report, started, failure=exc)
        raise
    _store_report(resources, report, started)
    return report


def _run(resources: Resources, report: RunReport, now: dt.datetime, tickers: tuple[str, ...]) -> None:
    settings, days = resources.settings, report.days
    paths = plan(settings, days, now)
    snapshots, backfill = paths.days_on("snapshot"), paths.days_on("backfill")
    flatfiles, replays = paths.days_on("flatfiles"), paths.days_on("replay")
    with logs.bound(run_id=report.run_id):
        log.info("run started", days=len(days), first=str(days[0]), last=str(days[-1]), source=settings.source,
                 snapshot_days=len(snapshots), replayed_days=len(replays), backfill_days=len(backfill),
                 flatfile_days=len(flatfiles))  # fmt: skip
        for decided in paths.days:
            log.debug("options path", trade_date=str(decided.day), path=decided.path, reason=decided.reason)
        overlapping = sorted(snapshots + replays)  # a replayed day is its evening's daily run
        with _day_loads(resources, report.run_id, beside_ingest=bool(overlapping)) as load_day:
            loads: dict[dt.date, Future[LoadReport]] = {}
            with _phase(report, "ingest"):
                ingests = [ingest_stocks(resources, day, run_id=report.run_id) for day in days]
                for day in overlapping:
                    ingests.append(
                        ingest_options(
                            resources, day, underlyings=tickers, mode=paths.path(day), run_id=report.run_id
                        )
                    )
                    loads[day] = load_day(day)
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
                        loads[day] = load_day(day)
                report.loaded_rows = sum(loads[day].result().rows for day in days)
        if settings.source == "simulator" and not settings.simulator.url:
            from workflows.simulator import release_models

            release_models()  # the transform does not need the simulated market's price history in memory
        with _phase(report, "transform"):
            report.transform = transform(resources, run_id=report.run_id)
        with _phase(report, "publish"):
            report.publish = publish(resources, run_id=report.run_id)


@contextmanager
def _day_loads(
    resources: Resources, run_id: str, *, beside_ingest: bool
) -> Iterator[Callable[[dt.date], Future[LoadReport]]]:
    """What loads a day. Beside the ingest (snapshot or replayed days), a process of its own: a day whose
    chains are in is loaded while the next day is fetched, so both cores work (decisions 113, 125). With
    nothing to overlap (a backfill or flat-file run loads only after its fetch), this process: a spawned one
    would cost its start-up and imports for no parallelism."""
    if not beside_ingest:

        def load_here(day: dt.date) -> Future[LoadReport]:
            done: Future[LoadReport] = Future()
            done.set_result(load(resources, day, run_id=run_id))
            return done

        yield load_here
        return
    with _loader(resources.settings) as loader:
        yield lambda day: loader.submit(_load_in_loader, day, run_id)


def _loader(settings: Settings) -> ProcessPoolExecutor:
    """One process that loads the days the ingest hands it, in order. A process, not a thread: the loads'
    Python (manifests, the ledger, DuckDB's calls) and the ingest's (parsing, the in-process simulator)
    queued on one GIL, so the loads fell behind a faster ingest and were left to finish after it. Spawned,
    not forked: the parent holds threads and HTTP clients a fork would copy mid-flight."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_start_loader, initargs=(settings,)
    )


_LOADER: Resources | None = None  # the loader process's own resources


def _start_loader(settings: Settings) -> None:
    global _LOADER
    logs.configure(settings.log_format, settings.log_level, secrets=settings.secrets())
    _LOADER = Resources.from_settings(settings)


def _load_in_loader(day: dt.date, run_id: str) -> LoadReport:
    assert _LOADER is not None, "the loader process was started without its resources"
    return load(_LOADER, day, run_id=run_id)


def _store_report(
    resources: Resources, report: RunReport, started: dt.datetime, failure: Exception | None = None
) -> None:
    """The run's report, as the exit handler writes an Argo run's (workflows/run_reports.py): the phase that
    failed stands for the failed node. Storing it or alerting never replaces the run's own outcome."""
    failed = []
    if failure is not None:
        phase = next((p for p in PHASES if p not in report.seconds), "run")
        failed = [run_reports.FailedNode(phase, RUN_TEMPLATE, logs.redact(str(failure)), _exit_code(failure))]
    try:
        record = run_reports.run_report(
            run_id=report.run_id, kind="embedded", status="Failed" if failure else run_reports.SUCCEEDED,
            source=resources.settings.source,
            started_at=started, finished_at=dt.datetime.now(dt.UTC), days=report.days,
            rows_by_dataset=run_reports.rows_landed(resources.lake, report.run_id, report.days[0], report.days[-1]),
            failed=failed, steps=report.steps,
        )  # fmt: skip
        where = run_reports.store(resources.settings, record)
    except Exception as exc:  # the run's outcome stands; the missing report is logged
        log.warning("run report not stored", error=logs.redact(str(exc)))
        return
    log.info("run report stored", report=where[0])
    alerts.notify(resources.settings.alert, record)


def _exit_code(failure: BaseException) -> int:
    return EXIT_CODE_RETRYABLE if retryable(failure) else EXIT_CODE_PERMANENT


@contextmanager
def _phase(report: RunReport, name: str, clock: Callable[[], float] = time.perf_counter) -> Iterator[None]:
    """Time one phase of the run and say so: where a first run's minutes go. A phase that raises is recorded
    too (as a failed step, with the exit code the run ends with), so the report shows how far it got."""
    started, started_at = clock(), dt.datetime.now(dt.UTC)

    def record(phase: str, exit_code: int) -> float:
        seconds = round(clock() - started, 1)
        report.steps.append(run_reports.StepTime(
            step=name, template=RUN_TEMPLATE, node=name, phase=phase, started_at=_stamp(started_at),
            finished_at=_stamp(dt.datetime.now(dt.UTC)), seconds=seconds, exit_code=exit_code,
        ))  # fmt: skip
        return seconds

    try:
        yield
    except Exception as exc:
        record("Failed", _exit_code(exc))
        raise
    report.seconds[name] = record(run_reports.SUCCEEDED, 0)
    log.info(f"{name} finished", phase=name, seconds=report.seconds[name])


def _stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")
