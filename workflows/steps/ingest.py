"""The ingest steps: raw API pages for trading days into the lake, one manifest per unit.

``ingest_stocks`` lands the whole market's daily bars and the day's splits; ``ingest_options`` the option
contracts and the end-of-day chain snapshot per underlying; ``backfill_options`` past days, which have no
snapshot, with one range request per contract; ``backfill_flatfiles`` the same days from the flat files.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Coroutine, Sequence
from contextlib import ExitStack
from typing import Any, get_args

from workflows import calendar, logs
from workflows.lake import DatasetWriter, new_run_id
from workflows.polygon import PolygonClient
from workflows.polygon.urls import request_target
from workflows.progress import UnitProgress
from workflows.steps.errors import StepError, describe, retryable
from workflows.steps.flatfiles import ingest_flatfiles
from workflows.steps.plan import OptionsPath, plan, trading_days_of, uses_embedded_simulator
from workflows.steps.resources import Resources
from workflows.steps.source import REPLAY_NEEDS_EMBEDDED
from workflows.steps.units import IngestReport, Lander, UnitReport, gather_units

log = logs.get_logger("smelt.steps")

#: ``auto`` follows the day's plan; the others force a path.
MODES = ("auto", *get_args(OptionsPath))


def lander_for(resources: Resources, run_id: str) -> Lander:
    return Lander(resources.lake, run_id, resources.source)


def _require_trading_day(day: dt.date, step: str) -> None:
    if not calendar.is_trading_day(day):
        raise StepError(
            f"{step} {day}: not an NYSE trading day (weekend or holiday); nothing to ingest", retryable=False
        )


def ingest_stocks(resources: Resources, day: dt.date, *, run_id: str | None = None) -> IngestReport:
    """Grouped daily bars for the whole US market (unadjusted), the day's splits and Treasury curve."""
    run_id = run_id or new_run_id()
    _require_trading_day(day, "ingest-stocks")
    with logs.bound(run_id=run_id, step="ingest-stocks", trade_date=day.isoformat()):
        return asyncio.run(_ingest_stocks(resources, day, lander_for(resources, run_id)))


async def _ingest_stocks(resources: Resources, day: dt.date, lander: Lander) -> IngestReport:
    async with resources.client(day) as client:
        units = await gather_units("ingest-stocks", day, [
            lander.land("stock_bars", day, None, client.grouped_daily(day)),
            lander.land("stock_splits", day, None,
                        client.splits(execution_date_gte=day, execution_date_lte=day)),
            lander.land("treasury_yields", day, None, client.treasury_yields(date=day)),
        ])  # fmt: skip
        log_client(client)
    return IngestReport("ingest-stocks", lander.run_id, units)


def ingest_options(
    resources: Resources,
    day: dt.date,
    *,
    underlyings: Sequence[str] | None = None,
    mode: str = "auto",
    run_id: str | None = None,
) -> IngestReport:
    """Contracts and the end-of-day chain snapshot per underlying; ``auto`` follows the day's plan (a past
    day on Polygon takes the backfill path); ``replay`` reads the in-process simulator's snapshot at the day's
    close, as that evening's daily run did (decision 107)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    run_id = run_id or new_run_id()
    _require_trading_day(day, "ingest-options")
    tickers = tuple(underlyings or resources.settings.underlyings)
    if mode == "auto":
        [decided] = plan(resources.settings, [day]).days
        log.info("ingest-options path", trade_date=day.isoformat(), path=decided.path, reason=decided.reason)
        mode = decided.path
    if mode == "backfill":
        return backfill_options(resources, day, day, underlyings=tickers, run_id=run_id)
    if mode == "flatfiles":
        return backfill_flatfiles(resources, day, day, underlyings=tickers, run_id=run_id)
    replay = mode == "replay"
    if replay and not uses_embedded_simulator(resources.settings):
        raise StepError(f"ingest-options {day} --mode replay: {REPLAY_NEEDS_EMBEDDED}", retryable=False)
    with logs.bound(run_id=run_id, step="ingest-options", trade_date=day.isoformat()):
        lander = lander_for(resources, run_id)
        report = asyncio.run(_ingest_snapshots(resources, day, tickers, lander, replay=replay))
        report.warnings += warn_unknown_underlyings(report.units)
        return report


async def _ingest_snapshots(
    resources: Resources, day: dt.date, tickers: Sequence[str], lander: Lander, *, replay: bool = False
) -> IngestReport:
    async with resources.client(day, replay=replay) as client:
        coros = []
        for u in tickers:
            coros.append(lander.land("option_contracts", day, u, client.option_contracts(u, as_of=day)))
            coros.append(lander.land("option_snapshots", day, u, client.option_chain_snapshot(u)))
            coros.append(_land_dividends(lander, client, day, u))
        units = await gather_units("ingest-options", day, coros)
        log_client(client)
    return IngestReport("ingest-options", lander.run_id, units)


def backfill_options(
    resources: Resources,
    start: dt.date,
    end: dt.date,
    *,
    underlyings: Sequence[str] | None = None,
    run_id: str | None = None,
) -> IngestReport:
    """Past days have no snapshot: contracts as of each day, then ONE range-aggs request per contract.

    Bars are split into per-day ``option_bars`` manifests; a contract's request covers the whole range,
    never one request per contract per day.
    """
    run_id = run_id or new_run_id()
    days = trading_days_of("backfill-options", start, end)
    tickers = tuple(underlyings or resources.settings.underlyings)
    with logs.bound(run_id=run_id, step="backfill-options", trade_date=f"{start}..{end}"):
        report = asyncio.run(_backfill(resources, days, tickers, lander_for(resources, run_id)))
        report.warnings += warn_unknown_underlyings(report.units)
        return report


async def _backfill(
    resources: Resources, days: list[dt.date], tickers: Sequence[str], lander: Lander
) -> IngestReport:
    report = IngestReport("backfill-options", lander.run_id)
    async with resources.client(days[-1]) as client:
        for u in tickers:  # one underlying at a time keeps the open per-day writers bounded
            report.units += await _backfill_underlying(lander, client, days, u)
        log_client(client)
    return report


async def reference_units(
    step: str,
    lander: Lander,
    client: PolygonClient,
    days: list[dt.date],
    underlying: str,
    contracts: set[str],
) -> list[UnitReport]:
    """What bars do not carry, for past days: the contracts as of each day (their terms; ``contracts``
    collects the tickers) and the underlying's dividends once, landed under the first day."""
    return await gather_units(step, f"{days[0]}..{days[-1]}", [
        *(lander.land("option_contracts", d, underlying, client.option_contracts(underlying, as_of=d),
                      collect=lambda item: contracts.add(item["ticker"]))
          for d in days),
        _land_dividends(lander, client, days[0], underlying),
    ])  # fmt: skip


async def _backfill_underlying(
    lander: Lander, client: PolygonClient, days: list[dt.date], underlying: str
) -> list[UnitReport]:
    contracts: set[str] = set()
    span = f"{days[0]}..{days[-1]}"
    units = await reference_units("backfill-options", lander, client, days, underlying, contracts)
    started = time.perf_counter()
    bars = {d: UnitReport("option_bars", d, underlying) for d in days}
    landed = {d: m for d in days if (m := lander.landed("option_bars", d, underlying)) is not None}
    todo = [d for d in days if d not in landed]
    for d in landed:
        bars[d].resumed = True
    with ExitStack() as stack:
        writers = {d: stack.enter_context(lander.writer("option_bars", d, underlying)) for d in todo}
        if writers:
            await _fetch_bars(client, sorted(contracts), days, writers, bars[days[0]], f"{underlying} {span}")
    finished = {d: writers[d].manifest for d in todo} | landed
    return units + [bars[d].finish(finished[d], started) for d in days]


async def _fetch_bars(
    client: PolygonClient,
    contracts: list[str],
    days: list[dt.date],
    writers: dict[dt.date, DatasetWriter],
    counted: UnitReport,
    what: str,
) -> None:
    """One range request per contract; each bar goes to its day's writer. Requests are counted on the
    range's first day, since each covers the whole range."""

    async def one(contract: str) -> None:
        try:
            async for page in client.aggregates(contract, days[0], days[-1]):
                counted.count(page)
                target = request_target(page.url)  # once per page, not per bar
                for item in page.items:
                    writer = writers.get(_bar_day(item))
                    if writer is not None:
                        writer.write(item, endpoint=page.endpoint, request_id=page.request_id,
                                     fetched_at=page.fetched_at, request=target, ticker=contract)  # fmt: skip
        except Exception as exc:
            raise StepError(
                f"option_bars for {what} {contract}: {describe(exc)}", retryable=retryable(exc)
            ) from exc

    with (
        logs.bound(dataset="option_bars", underlying=what.split()[0]),
        UnitProgress(f"backfill-options {what}", len(contracts)) as bar,
    ):
        try:  # the first failure cancels the rest: no point fetching bars that will be thrown away
            async with asyncio.TaskGroup() as group:
                for contract in contracts:
                    group.create_task(one(contract)).add_done_callback(lambda _: bar.advance(0))
        except* Exception as failed:
            first = failed.exceptions[0]
            raise StepError(
                f"backfill-options {what}: {describe(first)}", retryable=retryable(first)
            ) from first


def backfill_flatfiles(
    resources: Resources,
    start: dt.date,
    end: dt.date,
    *,
    underlyings: Sequence[str] | None = None,
    run_id: str | None = None,
) -> IngestReport:
    """Past days from the flat files: each day's two objects (bars of every stock and contract), plus per
    underlying what bars do not carry (contracts as of each day, dividends once; decision 68)."""
    run_id = run_id or new_run_id()
    days = trading_days_of("backfill-flatfiles", start, end)
    tickers = tuple(underlyings or resources.settings.underlyings)
    report = ingest_flatfiles(resources, days[0], days[-1], run_id=run_id)
    report.step = "backfill-flatfiles"
    with logs.bound(run_id=run_id, step="backfill-flatfiles", trade_date=f"{days[0]}..{days[-1]}"):
        report.units += asyncio.run(_references(resources, days, tickers, lander_for(resources, run_id)))
    report.warnings += warn_unknown_underlyings(report.units)
    return report


async def _references(
    resources: Resources, days: list[dt.date], tickers: Sequence[str], lander: Lander
) -> list[UnitReport]:
    units: list[UnitReport] = []
    async with resources.client(days[-1]) as client:
        for u in tickers:
            units += await reference_units("backfill-flatfiles", lander, client, days, u, set())
        log_client(client)
    return units


#: Dividends fetched before a day: enough to find the latest regular one declared by then (a yearly payer).
DIVIDEND_LOOKBACK = dt.timedelta(days=400)


def _land_dividends(
    lander: Lander, client: PolygonClient, first: dt.date, underlying: str
) -> Coroutine[Any, Any, UnitReport]:
    """The underlying's cash dividends with ex-dates from a lookback before ``first`` on (declared ones ahead
    included), landed under ``first``: the dividend yield of every day from ``first`` on needs them."""
    pages = client.dividends(underlying, ex_dividend_date_gte=first - DIVIDEND_LOOKBACK)
    return lander.land("stock_dividends", first, underlying, pages)


def _bar_day(item: dict[str, Any]) -> dt.date:
    """Range-aggs ``t`` is the start of the bar in ms, 00:00 New York time."""
    return dt.datetime.fromtimestamp(int(item["t"]) / 1000, dt.UTC).astimezone(calendar.NEW_YORK).date()


def warn_unknown_underlyings(units: list[UnitReport]) -> list[str]:
    """An underlying the API lists no contracts for is most likely a typo or not optionable: say so."""
    empty: dict[str, list[dt.date]] = {}
    for unit in units:
        if unit.dataset == "option_contracts" and unit.underlying and unit.rows == 0:
            empty.setdefault(unit.underlying, []).append(unit.trade_date)
    warnings = []
    for underlying, days in empty.items():
        when = str(days[0]) if len(days) == 1 else f"{len(days)} days from {min(days)} to {max(days)}"
        text = (
            f"no option contracts exist for {underlying} as of {when}: check the ticker (is it listed and "
            "optionable?); its manifests are empty"
        )
        log.warning(text, underlying=underlying)
        warnings.append(text)
    return warnings


def log_client(client: PolygonClient) -> None:
    log.info("source usage", base_url=client.base_url, **client.stats.as_dict())
