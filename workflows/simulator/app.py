"""The Polygon-compatible HTTP surface: routes, envelopes, pagination, auth, the clock header and faults.

Handlers are plain functions from a request context to a JSON body; one dispatcher around them does what
every endpoint shares (request ids, auth, fault injection, ``next_url``, serialisation). ``next_url`` is
absolute, built from the incoming request's base URL so it works in server mode and in-process, and carries
only an opaque cursor (the query plus the pinned "now" and the offset): never the API key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workflows.calendar import NEW_YORK
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator import clock, render, rng
from workflows.simulator.faults import FaultPlan, Faults, FaultsError
from workflows.simulator.headers import FAULTS_HEADER, NOW_HEADER
from workflows.simulator.market import EPOCH, LRU, Market, ordinals
from workflows.simulator.options import Contracts, OptionMarket

RATE_LIMITED = (
    "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."
)
NGINX_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_5XX = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
S_FIELDS = 42
#: Splits show up in the reference endpoint this many days before they execute (announced, not guessed).
SPLIT_NOTICE_DAYS = 30
JSON = "application/json"


class ApiError(Exception):
    """An error answer: 400 (bad parameter) and 404 (not found) come out in the API's shapes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SimStats:
    """Counters a test can read from ``app.state.stats``."""

    requests: int = 0
    responses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    endpoints: Counter[str] = field(default_factory=Counter)

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "responses": {str(k): v for k, v in sorted(self.responses.items())},
            "faults": dict(sorted(self.faults.items())),
            "faults_injected": self.faults_injected,
            "endpoints": dict(sorted(self.endpoints.items())),
        }


class Raw(list[bytes]):
    """Result items that are already JSON (a page of a cached chain)."""


@dataclass
class Reply:
    body: Any
    paged: bool = False  # a list endpoint, where the next_url loop fault applies
    status: int = 200


class Models:
    """The market, its option chains and rendered-item caches; shared by apps with the same parameters."""

    def __init__(self, seed: int, underlyings: tuple[str, ...], market_size: int) -> None:
        self.market = Market(seed, underlyings, market_size)
        self.options = OptionMarket(self.market)
        self.chain_items: LRU[tuple[str, dt.date], tuple[Raw, dict[str, int]]] = LRU(32)
        self.grouped_items: LRU[tuple[dt.date, bool, dt.date], Raw] = LRU(16)
        self.listings: LRU[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], Listing] = LRU(4)


@lru_cache(maxsize=3)
def models(seed: int, underlyings: tuple[str, ...], market_size: int) -> Models:
    return Models(seed, underlyings, market_size)


def release_models() -> None:
    """Drop the cached market models (hundreds of MB of price history) once a process is done ingesting."""
    models.cache_clear()


class Simulator:
    """Per-app state: the shared models plus this app's faults, key, clock, stats and request counter."""

    def __init__(
        self,
        seed: int,
        underlyings: Sequence[str],
        market_size: int,
        faults: Faults,
        api_key: str | None,
        snapshot_history: bool = False,
    ) -> None:
        self.seed = seed
        self.snapshot_history = snapshot_history
        self.models = models(seed, tuple(dict.fromkeys(t.upper() for t in underlyings)), market_size)
        self.market = self.models.market
        self.options = self.models.options
        self.faults = faults
        self.api_key = api_key
        self.stats = SimStats()
        self.plan = FaultPlan(seed)

    def request_id(self, request: Request) -> str:
        """Unique within the app (a counter), repeatable for a seed, and different for different requests."""
        now = request.headers.get(NOW_HEADER, "")
        text = f"{self.seed}:{self.stats.requests}:{_request_key(request)}:{now}".encode()
        return hashlib.blake2b(text, digest_size=16).hexdigest()


@dataclass
class Ctx:
    request: Request
    sim: Simulator
    params: dict[str, str]
    offset: int
    now: dt.datetime
    request_id: str

    @property
    def day(self) -> dt.date:
        """The session whose end-of-day data this request sees (pinned by a cursor, else from "now")."""
        if "_now" in self.params:
            return _date(self.params["_now"], "cursor")
        try:
            day = clock.market_day(self.now)
        except Exception:
            raise ApiError(400, f"simulated now {self.now.isoformat()} is beyond the NYSE calendar") from None
        if day < EPOCH:
            raise ApiError(400, f"simulated now {self.now.isoformat()} is before the first day {EPOCH}")
        return day

    @property
    def snapshot_day(self) -> dt.date:
        """The session a chain snapshot shows: like the vendor's, only the latest one at the server's own
        clock (the app's "now", else the real time), whatever "now" the request claims; with
        ``snapshot_history`` (tests, demos of old behaviour) the request's day instead."""
        if "_now" in self.params or self.sim.snapshot_history:
            return self.day
        state_now = self.request.app.state.now
        return clock.market_day(state_now if state_now is not None else clock.default_now())

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(NEW_YORK).date()

    def pin(self, **values: str) -> None:
        self.params.update(values)

    def next_url(self, offset: int) -> str:
        payload = orjson.dumps({"q": self.params, "o": offset}, option=orjson.OPT_SORT_KEYS)
        cursor = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        return f"{_base(self.request)}{self.request.url.path}?cursor={cursor}"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _decode_cursor(cursor: str) -> tuple[dict[str, str], int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        params, offset = data["q"], int(data["o"])
        if not isinstance(params, dict) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(400, "invalid cursor") from None
    return {str(k): str(v) for k, v in params.items()}, offset


# -- parameter parsing -------------------------------------------------------------------------------------


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"Could not parse the {name} parameter {value!r}: expected YYYY-MM-DD") from None


def _date_or_ms(value: str, name: str) -> dt.date:
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, NEW_YORK).date()
    return _date(value, name)


def _flag(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false, got {value!r}")


def _limit(params: dict[str, str], default: int, maximum: int) -> int:
    value = params.get("limit")
    if value is None:
        return default
    try:
        limit = int(value)
    except ValueError:
        raise ApiError(400, f"limit must be an integer, got {value!r}") from None
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"limit must be between 1 and {maximum}, got {limit}")
    return limit


def _choice(params: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = params.get(name, choices[0])
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "": np.equal,
    ".gt": np.greater,
    ".gte": np.greater_equal,
    ".lt": np.less,
    ".lte": np.less_equal,
}


def _filter(params: dict[str, str], name: str, values: Any, parse: Callable[[str], Any]) -> Any:
    """Mask of ``values`` that meet ``name``, ``name.gt``, ``name.gte``, ``name.lt`` and ``name.lte``."""
    mask = np.ones(len(values), dtype=bool)
    for suffix, op in _OPS.items():
        raw = params.get(name + suffix)
        if raw is not None:
            try:
                bound = parse(raw)
            except (ValueError, ApiError):
                raise ApiError(400, f"cannot parse {name + suffix}={raw!r}") from None
            mask &= op(values, bound)
    return mask


def _page(ctx: Ctx, total: int, limit: int) -> tuple[slice, str | None]:
    stop = min(ctx.offset + limit, total)
    return slice(ctx.offset, stop), (ctx.next_url(stop) if stop < total else None)


# -- handlers -----------------------------------------------------------------------------------------------


def grouped_daily(ctx: Ctx, date: str) -> Reply:
    day = _date(date, "date")
    adjusted = _flag(ctx.params, "adjusted", True)
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
    first, last = _date_or_ms(start, "from"), _date_or_ms(end, "to")
    adjusted = _flag(ctx.params, "adjusted", True)
    order = _choice(ctx.params, "sort", ("asc", "desc"))
    limit = _limit(ctx.params, 5000, 50000)
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
    window, next_url = _page(ctx, len(items), limit)
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


@dataclass(frozen=True)
class Listing:
    """The answer to one contracts query, all pages of it: tables and the (table, row) of each item."""

    tables: list[Contracts]
    rows: list[tuple[int, int]]


def _listing(ctx: Ctx, underlyings: tuple[str, ...], as_of: dt.date) -> Listing:
    p = ctx.params
    expired = _flag(p, "expired", False)
    order = _choice(p, "order", ("asc", "desc"))
    sort = _choice(p, "sort", ("ticker", "underlying_ticker", "expiration_date", "strike_price"))
    kind = _choice(p, "contract_type", ("call", "put")) if "contract_type" in p else None
    tables = [ctx.sim.options.contracts(u, as_of, expired) for u in underlyings]
    where = [(i, j) for i, table in enumerate(tables) for j in range(len(table))]
    tickers = [t for table in tables for t in table.tickers]
    exp = np.concatenate([t.expiration for t in tables])
    strike = np.concatenate([t.strike for t in tables])
    call = np.concatenate([t.call for t in tables])
    mask = _filter(p, "expiration_date", exp, lambda v: _date(v, "expiration_date").toordinal())
    mask &= _filter(p, "strike_price", strike, float)
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
    as_of = _date(p["as_of"], "as_of") if "as_of" in p else ctx.today
    ctx.pin(as_of=as_of.isoformat())
    limit = _limit(p, 10, 1000)
    if "underlying_ticker" in p:
        underlyings: tuple[str, ...] = (p["underlying_ticker"].upper(),)
    else:
        underlyings = ctx.sim.market.underlyings
    query = (underlyings, tuple(sorted((k, v) for k, v in p.items() if k != "limit")))
    listing = ctx.sim.models.listings.get(query, lambda: _listing(ctx, underlyings, as_of))
    window, next_url = _page(ctx, len(listing.rows), limit)
    results = [render.contracts(listing.tables[t], [j])[0] for t, j in listing.rows[window]]
    body: dict[str, Any] = {"results": results, "status": "OK", "request_id": ctx.request_id}
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)


def options_contract(ctx: Ctx, ticker: str) -> Reply:
    ticker = ticker if ticker.startswith("O:") else f"O:{ticker}"
    parsed = ctx.sim.options.parse(ticker)
    as_of = _date(ctx.params["as_of"], "as_of") if "as_of" in ctx.params else ctx.today
    if parsed is not None:
        underlying, expiry = parsed[0], parsed[1]
        expired = expiry.expiration < as_of
        table = ctx.sim.options.contracts(underlying, as_of, expired)
        if ticker in table.tickers:
            item = render.contracts(table, [table.tickers.index(ticker)])[0]
            return Reply({"results": item, "status": "OK", "request_id": ctx.request_id})
    raise ApiError(404, f"Contract {ticker} not found as of {as_of}")


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
    limit = _limit(p, 10, 250)
    order = _choice(p, "order", ("asc", "desc"))
    sort = _choice(p, "sort", ("ticker", "expiration_date", "strike_price"))
    found = _chain_items(ctx, underlying.upper())
    page = Raw()
    next_url = None
    if found is not None:
        chain, items, _ = found
        c = chain.contracts
        mask = _filter(p, "expiration_date", c.expiration, lambda v: _date(v, "expiration_date").toordinal())
        mask &= _filter(p, "strike_price", c.strike, float)
        if "contract_type" in p:
            mask &= c.call == (_choice(p, "contract_type", ("call", "put")) == "call")
        rows = np.nonzero(mask)[0]
        if sort != "ticker":
            values = c.expiration if sort == "expiration_date" else c.strike
            rows = rows[np.argsort(values[rows], kind="stable")]
        if order == "desc":
            rows = rows[::-1]
        window, next_url = _page(ctx, len(rows), limit)
        page = Raw(items[i] for i in rows[window].tolist())
    body: dict[str, Any] = {"request_id": ctx.request_id, "results": page, "status": "OK"}
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)


def contract_snapshot(ctx: Ctx, underlying: str, contract: str) -> Reply:
    contract = contract if contract.startswith("O:") else f"O:{contract}"
    found = _chain_items(ctx, underlying.upper())
    if found is not None and contract in found[2]:
        item = orjson.loads(found[1][found[2][contract]])
        return Reply({"request_id": ctx.request_id, "results": item, "status": "OK"})
    raise ApiError(404, f"Options contract {contract} of {underlying} not found on {ctx.snapshot_day}")


def stock_splits(ctx: Ctx) -> Reply:
    p = ctx.params
    limit = _limit(p, 10, 1000)
    order = _choice(p, "order", ("desc", "asc"))
    sort = _choice(p, "sort", ("execution_date", "ticker"))
    ctx.pin(_now=ctx.day.isoformat())
    announced = ctx.day + dt.timedelta(days=SPLIT_NOTICE_DAYS)
    rows = [s for s in ctx.sim.market.splits if s.execution_date <= announced]
    if rows:
        days = np.array([s.execution_date.toordinal() for s in rows])
        names = np.array([s.ticker for s in rows], dtype=object)
        mask = _filter(p, "execution_date", days, lambda v: _date(v, "execution_date").toordinal())
        mask &= _filter(p, "ticker", names, str)
        if "reverse_split" in p:
            reverse = _flag(p, "reverse_split", False)
            mask &= np.array([(s.split_from > s.split_to) == reverse for s in rows])
        rows = [rows[i] for i in np.nonzero(mask)[0].tolist()]
    if sort == "ticker":
        rows.sort(key=lambda s: (s.ticker, s.execution_date), reverse=order == "desc")
    else:
        rows.sort(key=lambda s: (s.execution_date, s.ticker), reverse=order == "desc")
    window, next_url = _page(ctx, len(rows), limit)
    return _listed(ctx, render.splits(rows[window]), next_url)


def stock_dividends(ctx: Ctx) -> Reply:
    """Cash dividends declared by the request's day (the vendor lists a dividend once it is declared)."""
    p = ctx.params
    limit = _limit(p, 10, 1000)
    order = _choice(p, "order", ("desc", "asc"))
    _choice(p, "sort", ("ex_dividend_date", "ticker"))
    ctx.pin(_now=ctx.day.isoformat())
    known = ordinals_of(ctx.day)
    tickers = [p["ticker"].upper()] if "ticker" in p else list(ctx.sim.market.underlyings)
    rows: list[tuple[int, str, int]] = []
    for t in tickers:
        if t not in ctx.sim.market.index:
            continue
        divs = ctx.sim.options.carry.dividends(t)
        mask = divs.declared <= known
        mask &= _filter(
            p, "ex_dividend_date", divs.ex_date, lambda v: ordinals_of(_date(v, "ex_dividend_date"))
        )
        rows += [(int(divs.ex_date[i]), t, i) for i in np.nonzero(mask)[0].tolist()]
    rows.sort(reverse=order == "desc")
    window, next_url = _page(ctx, len(rows), limit)
    carry = ctx.sim.options.carry
    return _listed(ctx, [render.dividend(carry.dividends(t), i) for _, t, i in rows[window]], next_url)


def treasury_yields(ctx: Ctx) -> Reply:
    """The simulated par-yield curve of each session up to the request's day, newest first by default."""
    p = ctx.params
    limit = _limit(p, 100, 50000)
    order = _choice(p, "order", ("desc", "asc"))
    ctx.pin(_now=ctx.day.isoformat())
    m = ctx.sim.market
    days = ordinals(m.sessions)
    mask = days <= ordinals_of(ctx.day)
    mask &= _filter(p, "date", days, lambda v: ordinals_of(_date(v, "date")))
    chosen = days[mask]
    if order == "desc":
        chosen = chosen[::-1]
    window, next_url = _page(ctx, len(chosen), limit)
    page = chosen[window]
    return _listed(ctx, render.treasury_yields(page, ctx.sim.options.carry.curve(page)), next_url)


def _listed(ctx: Ctx, results: list[dict[str, Any]], next_url: str | None) -> Reply:
    """A page of a v3-style list endpoint: results, status, request_id and the next page's link."""
    body: dict[str, Any] = {"results": results, "status": "OK", "request_id": ctx.request_id}
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)


def ordinals_of(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def market_now(ctx: Ctx) -> Reply:
    return Reply(clock.market_status(ctx.now))


def market_upcoming(ctx: Ctx) -> Reply:
    return Reply(clock.upcoming(ctx.now, ctx.sim.market.last_day))


# -- dispatch -------------------------------------------------------------------------------------------------


def _json(body: Any, status: int, request_id: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, headers={"X-Request-Id": request_id, **(headers or {})}, media_type=JSON
    )


def _error(status: int, request_id: str, message: str) -> Response:
    if status == 404:
        return _json({"status": "NOT_FOUND", "request_id": request_id, "message": message}, 404, request_id)
    return _json({"status": "ERROR", "request_id": request_id, "error": message}, status, request_id)


def _api_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.query_params.get("apiKey") or None


def _request_key(request: Request) -> str:
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "apiKey")
    return request.method + " " + request.url.path + "?" + "&".join(f"{k}={v}" for k, v in query)


def _self_url(request: Request) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "apiKey")
    return f"{_base(request)}{request.url.path}" + (f"?{query}" if query else "")


def _retype(value: Any, kind: str) -> Any:
    if kind == "null":
        return None
    if kind == "str":
        return str(value)
    try:
        if kind == "int":
            return int(float(value))
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        return value
    return bool(value)


def _mangle(item: Any, drop: set[str], retype: dict[str, str]) -> Any:
    if isinstance(item, dict):
        return {
            k: _retype(_mangle(v, drop, retype), retype[k]) if k in retype else _mangle(v, drop, retype)
            for k, v in item.items()
            if k not in drop
        }
    return item


def _apply_field_faults(body: Any, faults: Faults, seed: int, key: str) -> bool:
    results = body.get("results") if isinstance(body, dict) else None
    if not results:
        return False
    drop, retype = set(faults.drop), dict(faults.retype)
    if isinstance(results, dict):
        body["results"] = _mangle(results, drop, retype)
        return True
    items = [orjson.loads(b) for b in results] if isinstance(results, Raw) else results
    share = rng.uniform(seed, S_FIELDS, rng.text_key(key), np.arange(len(items)))
    body["results"] = [
        _mangle(item, drop, retype) if s < faults.field_share else item
        for item, s in zip(items, share.tolist(), strict=True)
    ]
    return True


def _encode(body: Any) -> bytes:
    if isinstance(body, dict) and isinstance(body.get("results"), Raw):
        body = {**body, "results": orjson.Fragment(b"[" + b",".join(body["results"]) + b"]")}
    return orjson.dumps(body)


Handler = Callable[..., Reply]


async def _dispatch(request: Request, handler: Handler, name: str) -> Response:
    sim: Simulator = request.app.state.sim
    sim.stats.requests += 1
    sim.stats.endpoints[name] += 1
    rid = sim.request_id(request)
    response = await _answer(request, sim, handler, rid)
    sim.stats.responses[response.status_code] += 1
    return response


async def _answer(request: Request, sim: Simulator, handler: Handler, rid: str) -> Response:
    key = _api_key(request)
    if key is None:
        return _error(401, rid, "API Key was not provided")
    if sim.api_key is not None and key != sim.api_key:
        return _error(401, rid, "Unknown API Key")
    try:
        faults = Faults.parse(request.headers.get(FAULTS_HEADER, ""), sim.faults)
    except FaultsError as exc:
        return _error(400, rid, f"{FAULTS_HEADER}: {exc}")
    if not faults.applies_to(request.url.path):
        faults = Faults()
    request_key = _request_key(request)
    kind = sim.plan.decide(faults, request_key) if faults.active else None
    if faults.latency_ms:
        sim.stats.faults["latency"] += 1
        await asyncio.sleep(faults.latency_ms / 1000.0)
    if kind == "rate_429":
        sim.stats.faults["rate_429"] += 1
        headers = {} if faults.retry_after is None else {"Retry-After": f"{faults.retry_after:g}"}
        if faults.empty_429:
            return Response(b"", 429, headers={"X-Request-Id": rid, **headers})
        return _json({"status": "ERROR", "request_id": rid, "error": RATE_LIMITED}, 429, rid, headers)
    if kind == "error_5xx":
        sim.stats.faults["error_5xx"] += 1
        status = sim.plan.pick(request_key, tuple(_5XX))
        return _error(status, rid, _5XX[status])
    if kind == "html_504":
        sim.stats.faults["html_504"] += 1
        return Response(NGINX_504, 504, headers={"X-Request-Id": rid}, media_type="text/html")

    try:
        ctx = _context(request, sim, rid)
        reply = handler(ctx, **request.path_params)
    except ApiError as exc:
        return _error(exc.status, rid, exc.message)
    body = reply.body
    if (faults.drop or faults.retype) and _apply_field_faults(body, faults, sim.seed, request_key):
        sim.stats.faults["fields"] += 1
    if faults.next_url_loop and reply.paged and isinstance(body, dict) and "next_url" not in body:
        body["next_url"] = _self_url(request)
        sim.stats.faults["next_url_loop"] += 1
    content = _encode(body)
    if kind == "truncate":
        sim.stats.faults["truncate"] += 1
        content = content[: max(1, len(content) // 2)]
    return Response(content, reply.status, headers={"X-Request-Id": rid}, media_type=JSON)


def _context(request: Request, sim: Simulator, rid: str) -> Ctx:
    header = request.headers.get(NOW_HEADER)
    try:
        if header:
            now = clock.parse_now(header)
        elif request.app.state.now is not None:
            now = clock.parse_now(request.app.state.now)
        else:
            now = clock.default_now()
    except clock.ClockError as exc:
        raise ApiError(400, f"{NOW_HEADER}: {exc}") from None
    local = now.astimezone(NEW_YORK).date()
    if not EPOCH <= local <= sim.market.last_day:
        raise ApiError(400, f"simulated now {local} is outside {EPOCH}..{sim.market.last_day}")
    cursor = request.query_params.get("cursor")
    if cursor:
        params, offset = _decode_cursor(cursor)
    else:
        skip = ("apiKey", "cursor")
        params, offset = {k: v for k, v in request.query_params.items() if k not in skip}, 0
    return Ctx(request, sim, params, offset, now, rid)


def not_found(ctx: Ctx, path: str) -> Reply:
    raise ApiError(404, f"The requested path /{path} was not found on this server")


def _route(path: str, handler: Handler, name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        return await _dispatch(request, handler, name)

    methods = None if name == "not_found" else ["GET"]
    return Route(path, endpoint, methods=methods, name=name)


async def _stats(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    return Response(orjson.dumps(sim.stats.as_dict()), media_type=JSON)


def create_app(
    seed: int = 7,
    underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
    market_size: int = 3000,
    faults: Faults | str | None = None,
    api_key: str | None = None,
    now: str | dt.date | dt.datetime | None = None,
    snapshot_history: bool = False,
) -> Starlette:
    """A Polygon-compatible ASGI app over a deterministic market (see the package docstring).

    ``now`` is the server's own clock (default: the real time): the chain snapshot shows the latest session
    at that clock only, like the vendor's; ``snapshot_history=True`` lets ``X-Sim-Now`` replay any day's.
    """
    if isinstance(faults, str):
        faults = Faults.parse(faults)
    sim = Simulator(seed, underlyings, market_size, faults or Faults(), api_key, snapshot_history)
    routes = [
        Route("/_sim/stats", _stats, methods=["GET"], name="stats"),
        _route("/v2/aggs/grouped/locale/us/market/stocks/{date}", grouped_daily, "grouped_daily"),
        _route(
            "/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{start}/{end}", aggregates, "aggregates"
        ),
        _route("/v3/reference/options/contracts", options_contracts, "options_contracts"),
        _route("/v3/reference/options/contracts/{ticker}", options_contract, "options_contract"),
        _route("/v3/snapshot/options/{underlying}", chain_snapshot, "chain_snapshot"),
        _route("/v3/snapshot/options/{underlying}/{contract}", contract_snapshot, "contract_snapshot"),
        _route("/v3/reference/splits", stock_splits, "splits"),
        _route("/v3/reference/dividends", stock_dividends, "dividends"),
        _route("/fed/v1/treasury-yields", treasury_yields, "treasury_yields"),
        _route("/v1/marketstatus/now", market_now, "market_now"),
        _route("/v1/marketstatus/upcoming", market_upcoming, "market_upcoming"),
        _route("/{path:path}", not_found, "not_found"),
    ]
    app = Starlette(routes=routes)
    app.state.sim = sim
    app.state.stats = sim.stats
    app.state.market = sim.market
    app.state.options = sim.options
    app.state.now = None
    if now is not None:
        set_now(app, now)
    return app


def set_now(app: Starlette, value: str | dt.date | dt.datetime | None) -> None:
    """Set (or with None, reset to the real last close) the simulated "now" of an app."""
    app.state.now = None if value is None else clock.parse_now(value)


def set_faults(app: Starlette, faults: Faults | str | None) -> None:
    """Replace an app's server-level faults."""
    sim: Simulator = app.state.sim
    sim.faults = Faults.parse(faults) if isinstance(faults, str) else faults or Faults()
