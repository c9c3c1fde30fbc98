"""Option endpoints: the contracts reference (one query's listing cached across its pages) and the chain
snapshot (one rendered chain per underlying and day, cached, filtered and sorted per request)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from workflows.simulator import render
from workflows.simulator.http.context import Ctx, listed, paginate
from workflows.simulator.http.params import choice, flag, page_size, parse_date, range_filter
from workflows.simulator.http.replies import Raw, Reply
from workflows.simulator.http.state import Listing


def _listing(ctx: Ctx, underlyings: tuple[str, ...], as_of: dt.date) -> Listing:
    p = ctx.params
    expired = flag(p, "expired", False)
    order = choice(p, "order", ("asc", "desc"))
    sort = choice(p, "sort", ("ticker", "underlying_ticker", "expiration_date", "strike_price"))
    kind = choice(p, "contract_type", ("call", "put")) if "contract_type" in p else None
    tables = [ctx.sim.options.contracts(u, as_of, expired) for u in underlyings]
    where = [(i, j) for i, table in enumerate(tables) for j in range(len(table))]
    tickers = [t for table in tables for t in table.tickers]
    exp = np.concatenate([t.expiration for t in tables])
    strike = np.concatenate([t.strike for t in tables])
    call = np.concatenate([t.call for t in tables])
    mask = range_filter(p, "expiration_date", exp, lambda v: parse_date(v, "expiration_date").toordinal())
    mask &= range_filter(p, "strike_price", strike, float)
    if kind is not None:
        mask &= call == (kind == "call")
    sort_key: dict[str, Callable[[int], Any]] = {
        "ticker": lambda i: tickers[i],
        "underlying_ticker": lambda i: (tables[where[i][0]].underlying, tickers[i]),
        "expiration_date": lambda i: (exp[i], tickers[i]),
        "strike_price": lambda i: (strike[i], tickers[i]),
    }
    ordered = sorted(np.nonzero(mask)[0].tolist(), key=sort_key[sort], reverse=order == "desc")
    return Listing(tables, [where[i] for i in ordered])


def options_contracts(ctx: Ctx) -> Reply:
    p = ctx.params
    as_of = parse_date(p["as_of"], "as_of") if "as_of" in p else ctx.today
    ctx.pin(as_of=as_of.isoformat())
    limit = page_size(p, 10, 1000)
    if "underlying_ticker" in p:
        underlyings: tuple[str, ...] = (p["underlying_ticker"].upper(),)
    else:
        underlyings = ctx.sim.market.underlyings
    query = (underlyings, tuple(sorted((k, v) for k, v in p.items() if k != "limit")))
    listing = ctx.sim.models.listings.get(query, lambda: _listing(ctx, underlyings, as_of))
    window, next_url = paginate(ctx, len(listing.rows), limit)
    results = [render.contracts(listing.tables[t], [j])[0] for t, j in listing.rows[window]]
    return listed(ctx, results, next_url)


def _chain_items(ctx: Ctx, underlying: str) -> tuple[Any, Raw, dict[str, int]] | None:
    day = ctx.snapshot_day
    chain = ctx.sim.options.chain(underlying, day)
    if chain is None:
        return None

    def make() -> tuple[Raw, dict[str, int]]:
        return Raw(render.snapshot_items(chain)), {t: i for i, t in enumerate(chain.contracts.tickers)}

    items, index = ctx.sim.models.chain_items.get((underlying, day), make)
    return chain, items, index


def chain_snapshot(ctx: Ctx, underlying: str) -> Reply:
    p = ctx.params
    ctx.pin(_now=ctx.snapshot_day.isoformat())
    limit = page_size(p, 10, 250)
    order = choice(p, "order", ("asc", "desc"))
    sort = choice(p, "sort", ("ticker", "expiration_date", "strike_price"))
    found = _chain_items(ctx, underlying.upper())
    page = Raw()
    next_url = None
    if found is not None:
        chain, items, _ = found
        c = chain.contracts
        mask = range_filter(
            p, "expiration_date", c.expiration, lambda v: parse_date(v, "expiration_date").toordinal()
        )
        mask &= range_filter(p, "strike_price", c.strike, float)
        if "contract_type" in p:
            mask &= c.call == (choice(p, "contract_type", ("call", "put")) == "call")
        rows = np.nonzero(mask)[0]
        if sort != "ticker":
            values = c.expiration if sort == "expiration_date" else c.strike
            rows = rows[np.argsort(values[rows], kind="stable")]
        if order == "desc":
            rows = rows[::-1]
        window, next_url = paginate(ctx, len(rows), limit)
        page = Raw(items[i] for i in rows[window].tolist())
    body: dict[str, Any] = {"request_id": ctx.request_id, "results": page, "status": "OK"}
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)
