"""Stock endpoints: grouped daily bars, range aggregates (of a stock or an option contract), splits and
cash dividends, each as the vendor knew them at the request's day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import orjson

from workflows.simulator import render
from workflows.simulator.http.context import Ctx, listed, paginate
from workflows.simulator.http.params import (
    ApiError,
    choice,
    date_or_ms,
    epoch_days,
    flag,
    page_size,
    parse_date,
    range_filter,
)
from workflows.simulator.http.replies import Raw, Reply
from workflows.simulator.market import EPOCH

#: Splits show up in the reference endpoint this many days before they execute (announced, not guessed).
SPLIT_NOTICE_DAYS = 30


def grouped_daily(ctx: Ctx, date: str) -> Reply:
    day = parse_date(date, "date")
    adjusted = flag(ctx.params, "adjusted", True)
    body: dict[str, Any] = {"queryCount": 0, "resultsCount": 0, "adjusted": adjusted}
    cutoff = ctx.day
    m = ctx.sim.market
    if EPOCH <= day <= cutoff and m.session_index(day) is not None:

        def make() -> Raw:
            bars = m.grouped(day, adjusted=adjusted, cutoff=cutoff)
            assert bars is not None
            return Raw(orjson.dumps(item) for item in render.stock_bars(bars, grouped=True))

        items = ctx.sim.models.grouped_items.get((day, adjusted, cutoff), make)
        body.update(queryCount=len(items), resultsCount=len(items), results=items)
        body.update(status="OK", request_id=ctx.request_id, count=len(items))
    else:
        body.update(status="OK", request_id=ctx.request_id)
    return Reply(body)


def aggregates(ctx: Ctx, ticker: str, multiplier: str, timespan: str, start: str, end: str) -> Reply:
    if multiplier != "1" or timespan != "day":
        raise ApiError(400, "the simulator serves daily bars only (multiplier 1, timespan day)")
    first, last = date_or_ms(start, "from"), date_or_ms(end, "to")
    adjusted = flag(ctx.params, "adjusted", True)
    order = choice(ctx.params, "sort", ("asc", "desc"))
    limit = page_size(ctx.params, 5000, 50000)
    cutoff = ctx.day
    ctx.pin(_now=cutoff.isoformat())
    items: list[dict[str, Any]] = []
    if ticker.startswith("O:"):
        found = ctx.sim.options.history(ticker, first, min(last, cutoff))
        if found is not None:
            sessions, quotes = found
            items = render.option_bars(ctx.sim.market.sessions[sessions], quotes)
    else:
        bars = ctx.sim.market.bars(ticker, first, last, adjusted=adjusted, cutoff=cutoff)
        if bars is not None:
            items = render.stock_bars(bars, grouped=False)
    if order == "desc":
        items.reverse()
    window, next_url = paginate(ctx, len(items), limit)
    page = items[window]
    body: dict[str, Any] = {
        "ticker": ticker,
        "queryCount": len(page),
        "resultsCount": len(page),
        "adjusted": adjusted,
    }
    if page:
        body["results"] = page
    body.update(status="OK", request_id=ctx.request_id, count=len(page))
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)


def stock_splits(ctx: Ctx) -> Reply:
    p = ctx.params
    limit = page_size(p, 10, 1000)
    order = choice(p, "order", ("desc", "asc"))
    sort = choice(p, "sort", ("execution_date", "ticker"))
    ctx.pin(_now=ctx.day.isoformat())
    announced = ctx.day + dt.timedelta(days=SPLIT_NOTICE_DAYS)
    rows = [s for s in ctx.sim.market.splits if s.execution_date <= announced]
    if rows:
        days = np.array([s.execution_date.toordinal() for s in rows])
        names = np.array([s.ticker for s in rows], dtype=object)
        mask = range_filter(p, "execution_date", days, lambda v: parse_date(v, "execution_date").toordinal())
        mask &= range_filter(p, "ticker", names, str)
        if "reverse_split" in p:
            reverse = flag(p, "reverse_split", False)
            mask &= np.array([(s.split_from > s.split_to) == reverse for s in rows])
        rows = [rows[i] for i in np.nonzero(mask)[0].tolist()]
    if sort == "ticker":
        rows.sort(key=lambda s: (s.ticker, s.execution_date), reverse=order == "desc")
    else:
        rows.sort(key=lambda s: (s.execution_date, s.ticker), reverse=order == "desc")
    window, next_url = paginate(ctx, len(rows), limit)
    return listed(ctx, render.splits(rows[window]), next_url)


def stock_dividends(ctx: Ctx) -> Reply:
    """Cash dividends declared by the request's day (the vendor lists a dividend once it is declared)."""
    p = ctx.params
    limit = page_size(p, 10, 1000)
    order = choice(p, "order", ("desc", "asc"))
    choice(p, "sort", ("ex_dividend_date", "ticker"))
    ctx.pin(_now=ctx.day.isoformat())
    known = epoch_days(ctx.day)
    tickers = [p["ticker"].upper()] if "ticker" in p else list(ctx.sim.market.underlyings)
    rows: list[tuple[int, str, int]] = []
    for t in tickers:
        if t not in ctx.sim.market.index:
            continue
        divs = ctx.sim.options.carry.dividends(t)
        mask = divs.declared <= known
        mask &= range_filter(
            p, "ex_dividend_date", divs.ex_date, lambda v: epoch_days(parse_date(v, "ex_dividend_date"))
        )
        rows += [(int(divs.ex_date[i]), t, i) for i in np.nonzero(mask)[0].tolist()]
    rows.sort(reverse=order == "desc")
    window, next_url = paginate(ctx, len(rows), limit)
    carry = ctx.sim.options.carry
    return listed(ctx, [render.dividend(carry.dividends(t), i) for _, t, i in rows[window]], next_url)
