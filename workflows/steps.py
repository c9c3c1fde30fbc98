"""The pipeline's steps: what each container runs, as plain functions of settings and a trading day.

``smelt run`` calls them in order in one process; Argo calls each in its own container. Nothing here
schedules, retries a whole step or fans out across machines: that is the orchestrator's job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows import calendar, logs
from workflows.lake import DatasetWriter, Lake, Manifest, new_run_id
from workflows.polygon import Page, PolygonClient
from workflows.progress import UnitProgress
from workflows.settings import Settings

if TYPE_CHECKING:
    from workflows.warehouse.base import LoadReport

log = logs.get_logger("smelt.steps")

SIMULATOR_BASE_URL = "http://simulator.smelt.invalid"
#: The simulator wants some key, like Polygon; this one guards nothing and is safe to print.
SIMULATOR_KEY = "embedded-simulator-no-secret"


class StepError(RuntimeError):
    """A step failed; the message names the step, the day, the dataset and the cause."""


@dataclass
class UnitReport:
    """Counts for one manifest's worth of ingest (one dataset, one day, maybe one underlying)."""

    dataset: str
    trade_date: dt.date
    underlying: str | None
    requests: int = 0
    retries: int = 0
    rows: int = 0
    item_errors: int = 0
    bytes: int = 0
    seconds: float = 0.0
    manifest_key: str | None = None


@dataclass
class IngestReport:
    step: str
    run_id: str
    units: list[UnitReport] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(u.rows for u in self.units)

    @property
    def requests(self) -> int:
        return sum(u.requests for u in self.units)


# --------------------------------------------------------------------------------------------- source


def open_client(settings: Settings, day: dt.date) -> PolygonClient:
    """The configured source: Polygon, or the simulator with its clock set to ``day``'s close.

    The simulator runs in-process unless ``POLYGON_BASE_URL`` points at a served one (``smelt sim
    serve``); either way it is reached over the same HTTP client as Polygon, so the code path is one.
    """
    if settings.source == "polygon":
        return PolygonClient.from_settings(settings)
    from workflows import simulator

    headers = {simulator.NOW_HEADER: day.isoformat()}
    if settings.sim_faults:
        headers[simulator.FAULTS_HEADER] = settings.sim_faults
    if "polygon_base_url" in settings.model_fields_set:
        return PolygonClient.from_settings(settings, headers=headers, api_key=SIMULATOR_KEY)
    transport = simulator.transport(seed=settings.sim_seed)
    return PolygonClient.from_settings(
        settings, transport=transport, headers=headers, base_url=SIMULATOR_BASE_URL, api_key=SIMULATOR_KEY
    )


def snapshot_is_end_of_day(day: dt.date, now: dt.datetime | None = None) -> bool:
    """Polygon's chain snapshot shows ``day``'s close only between that close and the next open."""
    now = now or dt.datetime.now(dt.UTC)
    if not calendar.is_trading_day(day) or now < calendar.session_close(day):
        return False
    return calendar.last_completed_trading_day(now) == day and not _session_open(now)


def _session_open(now: dt.datetime) -> bool:
    today = now.astimezone(calendar.NEW_YORK).date()
    return (
        calendar.is_trading_day(today)
        and now < calendar.session_close(today)
        and (now.astimezone(calendar.NEW_YORK).time() >= dt.time(9, 30))
    )


# --------------------------------------------------------------------------------------------- writing


async def _drain(
    pages: AsyncIterator[Page],
    writer: DatasetWriter,
    unit: UnitReport,
    collect: Callable[[dict[str, Any]], None] | None = None,
    **meta: Any,
) -> None:
    async for page in pages:
        unit.requests += 1 + page.retries
        unit.retries += page.retries
        unit.item_errors += len(page.item_errors)
        for item in page.items:
            writer.write(item, endpoint=page.endpoint, request_id=page.request_id,
                         fetched_at=page.fetched_at, **meta)  # fmt: skip
            if collect is not None:
                collect(item)
    if unit.item_errors:
        writer.stats["item_errors"] = unit.item_errors


def _finish(unit: UnitReport, manifest: Manifest | None, started: float) -> UnitReport:
    unit.seconds = round(time.perf_counter() - started, 3)
    if manifest is not None:
        unit.rows, unit.bytes, unit.manifest_key = manifest.rows, manifest.bytes, manifest.key
    log.info("unit finished", **{k: v for k, v in asdict(unit).items() if k != "trade_date"})
    return unit


async def _unit(
    lake: Lake, run_id: str, source: str, dataset: str, day: dt.date, underlying: str | None,
    pages: AsyncIterator[Page], collect: Callable[[dict[str, Any]], None] | None = None,
) -> UnitReport:  # fmt: skip
    unit, started = UnitReport(dataset, day, underlying), time.perf_counter()
    try:
        with (
            logs.bound(dataset=dataset, underlying=underlying),
            _writer(lake, dataset, day, underlying, run_id, source) as writer,
        ):
            writer.stats["run_id"] = run_id
            await _drain(pages, writer, unit, collect)
            writer.stats.update(requests=unit.requests, retries=unit.retries)
    except Exception as exc:
        raise _unit_error(dataset, underlying, exc) from exc
    return _finish(unit, writer.manifest, started)


def _writer(
    lake: Lake, dataset: str, day: dt.date, underlying: str | None, run_id: str, source: str
) -> DatasetWriter:
    return lake.writer(dataset, day, underlying, run_id, "polygon" if source == "polygon" else "simulator")


def _unit_error(dataset: str, underlying: str | None, exc: BaseException) -> StepError:
    where = f"{dataset} for {underlying}" if underlying else dataset
    return StepError(f"{where}: {_describe(exc)}")


async def _gather_units(step: str, when: object, coros: Iterable[Awaitable[Any]]) -> list[UnitReport]:
    """Run units concurrently; finished units keep their manifests, failures end the step with one message
    that names every failed unit (each is also logged on its own line)."""
    pending = list(coros)
    with UnitProgress(f"{step} {when}", len(pending)) as bar:

        async def tracked(unit: Awaitable[Any]) -> Any:
            result = await unit
            bar.advance(result.rows if isinstance(result, UnitReport) else 0)
            return result

        results = await asyncio.gather(*(tracked(c) for c in pending), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        log.error("unit failed", error=_describe(failure))
    if failures:
        raise StepError(
            f"{step} {when}: {len(failures)} of {len(results)} units failed: "
            + "; ".join(_describe(f) for f in failures)
        ) from failures[0]
    return [r for r in results if isinstance(r, UnitReport)]


def _describe(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
    return logs.redact(text)


# --------------------------------------------------------------------------------------------- ingest


def ingest_stocks(settings: Settings, day: dt.date, run_id: str | None = None) -> IngestReport:
    """Grouped daily bars for the whole US market (unadjusted) and the day's splits."""
    run_id = run_id or new_run_id()
    _require_trading_day(day, "ingest-stocks")
    with logs.bound(run_id=run_id, step="ingest-stocks", trade_date=day.isoformat()):
        return asyncio.run(_ingest_stocks(settings, day, run_id))


async def _ingest_stocks(settings: Settings, day: dt.date, run_id: str) -> IngestReport:
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    async with open_client(settings, day) as client:
        units = await _gather_units("ingest-stocks", day, [
            _unit(lake, run_id, settings.source, "stock_bars", day, None, client.grouped_daily(day)),
            _unit(lake, run_id, settings.source, "stock_splits", day, None,
                  client.splits(execution_date_gte=day, execution_date_lte=day)),
        ])  # fmt: skip
    return IngestReport("ingest-stocks", run_id, units)


def ingest_options(
    settings: Settings,
    day: dt.date,
    underlyings: Sequence[str] | None = None,
    run_id: str | None = None,
    mode: str = "auto",
) -> IngestReport:
    """Contracts and the end-of-day chain snapshot per underlying; past days on Polygon use backfill."""
    run_id = run_id or new_run_id()
    _require_trading_day(day, "ingest-options")
    tickers = tuple(underlyings or settings.underlyings)
    if mode == "auto":
        mode = "snapshot" if settings.source == "simulator" or snapshot_is_end_of_day(day) else "backfill"
    if mode == "backfill":
        return backfill_options(settings, day, day, tickers, run_id)
    if mode != "snapshot":
        raise ValueError(f"mode {mode!r} is not one of auto, snapshot, backfill")
    with logs.bound(run_id=run_id, step="ingest-options", trade_date=day.isoformat()):
        return asyncio.run(_ingest_snapshots(settings, day, tickers, run_id))


async def _ingest_snapshots(
    settings: Settings, day: dt.date, tickers: Sequence[str], run_id: str
) -> IngestReport:
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    async with open_client(settings, day) as client:
        coros = []
        for u in tickers:
            coros.append(_unit(lake, run_id, settings.source, "option_contracts", day, u,
                               client.option_contracts(u, as_of=day)))  # fmt: skip
            coros.append(_unit(lake, run_id, settings.source, "option_snapshots", day, u,
                               client.option_chain_snapshot(u)))  # fmt: skip
        units = await _gather_units("ingest-options", day, coros)
    return IngestReport("ingest-options", run_id, units)


def backfill_options(
    settings: Settings, start: dt.date, end: dt.date, underlyings: Sequence[str], run_id: str | None = None
) -> IngestReport:
    """Past days have no snapshot: contracts as of each day, then ONE range-aggs request per contract.

    Bars are split into per-day ``option_bars`` manifests; a contract's request covers the whole range,
    never one request per contract per day.
    """
    run_id = run_id or new_run_id()
    days = calendar.trading_days(start, end)
    if not days:
        raise StepError(f"backfill-options {start}..{end}: no trading days in the range")
    with logs.bound(run_id=run_id, step="backfill-options", trade_date=f"{start}..{end}"):
        return asyncio.run(_backfill(settings, days, tuple(underlyings), run_id))


async def _backfill(
    settings: Settings, days: list[dt.date], tickers: Sequence[str], run_id: str
) -> IngestReport:
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    report = IngestReport("backfill-options", run_id)
    async with open_client(settings, days[-1]) as client:
        for u in tickers:  # one underlying at a time keeps the open per-day writers bounded
            report.units += await _backfill_underlying(lake, client, settings.source, days, u, run_id)
    return report


async def _backfill_underlying(
    lake: Lake, client: PolygonClient, source: str, days: list[dt.date], underlying: str, run_id: str
) -> list[UnitReport]:
    contracts: set[str] = set()
    units = await _gather_units("backfill-options", f"{days[0]}..{days[-1]}", [
        _unit(lake, run_id, source, "option_contracts", d, underlying,
              client.option_contracts(underlying, as_of=d), collect=lambda item: contracts.add(item["ticker"]))
        for d in days
    ])  # fmt: skip
    started = time.perf_counter()
    bars = {d: UnitReport("option_bars", d, underlying) for d in days}
    with ExitStack() as stack:
        writers = {
            d: stack.enter_context(_writer(lake, "option_bars", d, underlying, run_id, source)) for d in days
        }

        async def one(contract: str) -> None:
            # Requests cover the whole range, so they are counted on the range's first day.
            try:
                async for page in client.aggregates(contract, days[0], days[-1]):
                    bars[days[0]].requests += 1 + page.retries
                    bars[days[0]].retries += page.retries
                    for item in page.items:
                        d = _bar_day(item)
                        if d in writers:
                            writers[d].write(item, endpoint=page.endpoint, request_id=page.request_id,
                                             fetched_at=page.fetched_at, ticker=contract)  # fmt: skip
            except Exception as exc:
                raise _unit_error("option_bars", f"{underlying} {contract}", exc) from exc

        span = f"{days[0]}..{days[-1]}"
        with (
            logs.bound(dataset="option_bars", underlying=underlying),
            UnitProgress(f"backfill-options {underlying} {span}", len(contracts)) as bar,
        ):
            try:  # the first failure cancels the rest: no point fetching bars that will be thrown away
                async with asyncio.TaskGroup() as group:
                    for contract in sorted(contracts):
                        group.create_task(one(contract)).add_done_callback(lambda _: bar.advance(0))
            except* Exception as failed:
                first = failed.exceptions[0]
                raise StepError(f"backfill-options {span}: {_describe(first)}") from first
    return units + [_finish(bars[d], writers[d].manifest, started) for d in days]


def _bar_day(item: dict[str, Any]) -> dt.date:
    """Range-aggs ``t`` is the start of the bar in ms, 00:00 New York time."""
    return dt.datetime.fromtimestamp(int(item["t"]) / 1000, dt.UTC).astimezone(calendar.NEW_YORK).date()


def _require_trading_day(day: dt.date, step: str) -> None:
    if not calendar.is_trading_day(day):
        raise StepError(f"{step} {day}: not an NYSE trading day (weekend or holiday); nothing to ingest")


# --------------------------------------------------------------------------------------------- load


def load(settings: Settings, day: dt.date, datasets: Sequence[str] | None = None) -> LoadReport:
    """Load the day's manifests that the ledger lacks; each manifest in one transaction or not at all."""
    from workflows.warehouse import load as load_day
    from workflows.warehouse import open_warehouse
    from workflows.warehouse.base import LoadError

    with logs.bound(step="load", trade_date=day.isoformat()):
        try:
            lake = Lake.open(settings.lake, settings.s3_endpoint_url)
            with open_warehouse(settings) as warehouse:
                report = load_day(warehouse, lake, day, datasets)
            report.raise_for_failures()
        except LoadError as exc:  # the report's own message lists every failed manifest and its file
            raise StepError(f"load: {exc}") from exc
        except Exception as exc:  # lock timeouts, S3 credentials, DDL: one message naming the day
            raise StepError(f"load {day}: {_describe(exc)}") from exc
        return report


# --------------------------------------------------------------------------------------------- transform

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt"


@dataclass
class TransformReport:
    models: int
    tests: int
    seconds: float
    run_results: Path


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment dbt's profile reads: where the warehouse is; no tracking calls home."""
    return {
        "SMELT_DUCKDB_PATH": str(settings.duckdb_path.resolve()),
        "SMELT_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "SMELT_WAREHOUSE": settings.warehouse,
        "DO_NOT_TRACK": "1",
    }


def dbt_invoke(settings: Settings, *args: str) -> Any:
    """Run one dbt command in-process through dbt's Python entry point, with the project's paths."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    target = settings.home / "dbt"
    argv = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", settings.warehouse,
        "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
    ]  # fmt: skip
    if settings.log_format == "json" or (settings.log_format == "auto" and not sys.stderr.isatty()):
        argv = ["--log-format", "json", *argv]
    try:
        return dbtRunner().invoke(argv)
    finally:
        if settings.warehouse == "duckdb":
            _release_duckdb()


def _release_duckdb() -> None:
    """dbt-duckdb keeps the database open in a class-level cache after a run; close it so the loader or
    the dashboard in this process can open the file again (DuckDB allows one configuration per file)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _dbt_failures(result: Any) -> list[str]:
    """One line per failed node: the test (and the model it checks) or the model, and dbt's message."""
    failures = []
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r.status, "value", r.status))
        if status in {"error", "fail", "runtime error"}:
            node = r.node
            subject = node.unique_id
            attached = getattr(node, "attached_node", None)
            if attached:
                subject += f" on {attached}"
            failures.append(f"{subject} {status}: {(r.message or '').strip()[:300]}")
    return failures


def transform(settings: Settings, full_refresh: bool = False, select: str | None = None) -> TransformReport:
    """``dbt build`` (incremental unless asked), then source freshness; run_results.json is kept."""
    started = time.perf_counter()
    with logs.bound(step="transform"):
        # Unit tests check SQL logic, not data: they run in CI (`make test`, tests/dbt), not in every
        # production build, as dbt recommends; data tests run every time.
        args = ["build", "--exclude-resource-type", "unit_test"]
        args += (["--full-refresh"] if full_refresh else []) + (["--select", select] if select else [])
        result = dbt_invoke(settings, *args)
        failures = _dbt_failures(result)
        if not result.success:
            detail = (
                "; ".join(failures) if failures else _describe(result.exception or RuntimeError("unknown"))
            )
            if settings.warehouse == "duckdb" and "Out of Memory" in detail:
                detail += (
                    f" -- DuckDB hit SMELT_DUCKDB_MEMORY_LIMIT={settings.duckdb_memory_limit}: a first build of a"
                    " long history needs more; raise it (e.g. 3GB) for that run"
                )
            raise StepError(f"transform: dbt build failed: {detail}")
        kept = settings.home / "dbt" / "target" / "run_results.json"
        results = list(getattr(result.result, "results", None) or [])
        tests = sum(1 for r in results if r.node.resource_type in {"test", "unit_test"})
        freshness = dbt_invoke(settings, "source", "freshness")
        if not freshness.success:
            raise StepError(f"transform: source freshness failed: {'; '.join(_dbt_failures(freshness))}")
        report = TransformReport(len(results) - tests, tests, round(time.perf_counter() - started, 1), kept)
        log.info("transform finished", nodes=len(results) - tests, tests=tests, seconds=report.seconds)
        return report


# --------------------------------------------------------------------------------------------- run


@dataclass
class RunReport:
    run_id: str
    days: list[dt.date]
    ingested_rows: int = 0
    requests: int = 0
    loaded_rows: int = 0
    transform: TransformReport | None = None


DEFAULT_RUN_DAYS = 30


def run(
    settings: Settings,
    start: dt.date | None = None,
    end: dt.date | None = None,
    underlyings: Sequence[str] | None = None,
) -> RunReport:
    """Ingest and load each trading day of the range, then transform once.

    dbt's models are incremental over dates, so one build after the last load gives the same marts as a
    build per day, in a fraction of the time.
    """
    end = end or calendar.last_completed_trading_day()
    days = (
        calendar.trading_days(start, end) if start else calendar.previous_trading_days(end, DEFAULT_RUN_DAYS)
    )
    if not days:
        raise StepError(f"run: no trading days between {start} and {end}")
    report = RunReport(new_run_id(), days)
    backfill = [] if settings.source == "simulator" else [d for d in days if not snapshot_is_end_of_day(d)]
    with logs.bound(run_id=report.run_id):
        log.info(
            "run started", days=len(days), first=str(days[0]), last=str(days[-1]), source=settings.source
        )
        ingests = [ingest_stocks(settings, day, report.run_id) for day in days]
        ingests += [
            ingest_options(settings, day, underlyings, report.run_id, mode="snapshot")
            for day in days
            if day not in backfill
        ]
        if backfill:  # one range request per contract, never one per contract per day
            tickers = tuple(underlyings or settings.underlyings)
            ingests.append(backfill_options(settings, backfill[0], backfill[-1], tickers, report.run_id))
        report.ingested_rows = sum(i.rows for i in ingests)
        report.requests = sum(i.requests for i in ingests)
        report.loaded_rows = sum(load(settings, day).rows for day in days)
        if settings.source == "simulator":
            from workflows.simulator import release_models

            release_models()  # the transform does not need the simulated market's price history in memory
        report.transform = transform(settings)
    return report
