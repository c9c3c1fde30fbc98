"""Listed option chains: expiries, strikes, Black-Scholes prices and Greeks, open interest and day bars.

Listing follows the exchanges' habits closely enough for an options dashboard: weekly expiries (Fridays, or
the session before a Friday holiday) are listed about seven weeks ahead, monthly ones (third Fridays) about a
year ahead, and each monthly gets a second, denser batch of strikes when it comes within the weekly window.
Strikes are fixed when a batch is listed, around the spot of the previous close, so a contract's ticker is
the same every day of its life. Splits adjust existing contracts the way OCC adjusts whole-number splits:
strike divided by the ratio (a new OCC ticker), 100 shares a contract.

Every number of a contract on a day comes from one vectorised function of (contract, day), used alike for a
day's whole chain and for one contract's history, so the snapshot's ``day`` and the aggregate bar of the same
contract and day are the same numbers. Contracts are American, as equity options are, and are priced as
American (Bjerksund-Stensland, :mod:`workflows.pricing`) on the implied volatility, with the rate of the
served Treasury curve at each contract's maturity and the dividend yield of the served dividends
(:mod:`workflows.simulator.carry`): the served Greeks and IV are that model's, and anyone can recompute them
from the API's own data. Time to expiry is calendar days / 365 from the day's close, so at the close of
the expiry day it is zero: the contract is worth its intrinsic value and, like the vendor for contracts it
cannot price, the snapshot then carries no Greeks or IV. Open interest and volume count contracts, which a
split multiplies (OCC adjusts a 2-for-1 split into two contracts at half the strike).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from workflows import calendar, pricing
from workflows.pricing.implied import HALF_TICK, VEGA_FLOOR
from workflows.simulator import rng
from workflows.simulator.carry import Carry
from workflows.simulator.market import (
    EPOCH,
    F64,
    I64,
    LRU,
    SERIES_BATCH,
    Market,
    Series,
    ordinals,
    to_days,
)
from workflows.simulator.universe import Breadth, breadth

NEW_YORK = ZoneInfo("America/New_York")
WEEKLY_WINDOW = 49  # days before expiry a weekly (or a monthly's dense batch) is listed
MONTHLY_WINDOW = 364
S_OPT, S_OI, S_IV = 31, 32, 33
_NICE_STEPS = (0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0)
#: Priced cells (contract-sessions) the range cache holds: about 60 bytes each, so about 120 MB at most.
RANGE_CACHE_CELLS = 2_000_000
OPTION_TICKER = re.compile(r"^O:([A-Z]{1,6})(\d{6})([CP])(\d{8})$")
B = NDArray[np.bool_]
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Expiry:
    friday: dt.date  # the nominal Friday; the contract expires on ``expiration``
    expiration: dt.date
    listed: dt.date
    monthly: bool


@dataclass(frozen=True)
class Strikes:
    """One expiry's strikes: grid value when listed, listing date and split factor at listing."""

    grid: F64
    listed: I64  # ordinals
    factor: F64

    def raw(self, factor_on_day: float | F64) -> F64:
        """Strikes as quoted on a day whose split factor is ``factor_on_day``."""
        return np.asarray(np.round(self.grid * (factor_on_day / self.factor), 3), dtype=np.float64)


@dataclass(frozen=True)
class Contracts:
    """A set of contracts of one underlying, as they are quoted on ``as_of`` (tickers sorted)."""

    underlying: str
    as_of: dt.date
    tickers: list[str]
    expiration: I64  # ordinals
    listed: I64
    monthly: B
    call: B
    strike: F64  # raw strike on the quoting day
    key: NDArray[np.uint64]

    def __len__(self) -> int:
        return len(self.tickers)

    def take(self, index: I64) -> Contracts:
        return Contracts(
            self.underlying,
            self.as_of,
            [self.tickers[i] for i in index.tolist()],
            self.expiration[index],
            self.listed[index],
            self.monthly[index],
            self.call[index],
            self.strike[index],
            self.key[index],
        )


@dataclass(frozen=True)
class DayBars:
    """The day aggregates of contract-days (what a range request serves), arrays of one length."""

    open: F64
    high: F64
    low: F64
    close: F64
    vwap: F64
    volume: I64
    trades: I64

    def take(self, index: I64) -> DayBars:
        return DayBars(*(getattr(self, f)[index] for f in DAY_BAR_FIELDS))


DAY_BAR_FIELDS = ("open", "high", "low", "close", "vwap", "volume", "trades")


@dataclass(frozen=True)
class Quotes(DayBars):
    """Everything the snapshot and the aggregates say about contracts on days (arrays of one length): the
    day's bars, and the model's values, quotes and times."""

    years: F64
    spot: F64
    iv: F64
    fmv: F64
    delta: F64
    gamma: F64
    theta: F64
    vega: F64
    open_interest: I64
    bid: F64
    ask: F64
    bid_size: I64
    ask_size: I64
    trade_size: I64
    exchange: I64
    quote_ns: I64
    trade_ns: I64
    day_ns: I64  # 00:00 New York of the day, in ns (the bar's start, like the API's day.last_updated)
    close_ns: I64


@dataclass(frozen=True)
class RangeBlock:
    """Every contract of one (underlying, expiry) on the sessions ``[lo, lo + columns)``, priced in one call.

    A backfill asks for every contract of an underlying over the same window, one request each; pricing the
    expiry's whole strike grid at once and answering the rest from here turns ~80 small pricings into one
    large vectorised one. Only listed cells are priced: ``cell`` maps (strike row, session) to the cell's
    call in ``bars`` (its put is ``count`` further), -1 where the row was not yet listed.
    """

    lo: int
    quoted: F64  # (rows, sessions): each strike row as quoted on each session (split-adjusted)
    cell: I64  # (rows, sessions)
    count: int
    bars: DayBars  # 2 * count cells: every listed call, then every listed put

    @property
    def weight(self) -> int:
        return 2 * self.count + self.cell.size


@dataclass(frozen=True)
class Chain:
    """The end-of-day chain of one underlying on one session."""

    underlying: str
    day: dt.date
    contracts: Contracts
    quotes: Quotes
    previous_close: F64


#: SSVI skew and wing parameters (rho, eta) of the smile: at the money they give the shape of the quadratic
#: smile used before (an ATM skew of rho * eta / 2 and a curvature of eta**2 (1 - 2 rho**2) / 8 per standard
#: deviation squared), with eta (1 + |rho|) <= 2, the no-arbitrage condition of :func:`ssvi_variance`.
SMILE_STOCK = (-0.22, 0.73)
SMILE_ETF = (-0.41, 0.78)


def ssvi_variance(k: F64, theta: F64, rho: float | F64, eta: float | F64) -> F64:
    """Total implied variance at forward log-moneyness ``k`` of an expiry whose ATM total variance is
    ``theta``: the SSVI surface of Gatheral and Jacquier (Arbitrage-free SVI volatility surfaces, 2014),
    ``w = theta / 2 (1 + rho phi k + sqrt((phi k + rho)**2 + 1 - rho**2))`` with the power law
    ``phi = eta / sqrt(theta (1 + theta))``.

    Free of static arbitrage by construction, not by luck: butterflies (their theorem 4.2) need
    ``theta phi (1 + |rho|) < 4`` and ``theta phi**2 (1 + |rho|) <= 4``; here ``theta phi < eta`` and
    ``theta phi**2 <= eta**2``, so ``eta (1 + |rho|) <= 2`` gives both. Calendar spreads (theorem 4.1) need
    ``theta`` non-decreasing in expiry and ``0 <= d(theta phi) / d theta <= phi (1 + sqrt(1 - rho**2)) / rho**2``;
    ``theta phi = eta sqrt(theta / (1 + theta))`` has derivative ``phi / (2 (1 + theta))`` (under ``phi / 2``).
    The wings are linear in ``k`` (Lee's moment bound), where a clipped quadratic left a concave kink.
    """
    phi = eta / np.sqrt(theta * (1.0 + theta))
    x = phi * k
    return np.asarray(
        0.5 * theta * (1.0 + rho * x + np.sqrt((x + rho) ** 2 + 1.0 - rho * rho)), dtype=np.float64
    )


#: Range of the rule-based holidays used beyond the calendar's sessions (fixed: never the real date).
RULES_FROM, RULES_TO = dt.date(2015, 1, 1), dt.date(2099, 12, 31)


@lru_cache(maxsize=1)
def rule_weekdays() -> np.busdaycalendar:
    """Weekdays minus NYSE holidays by exchange_calendars' rules, for days the calendar has no sessions for.

    The NYSE calendar's sessions reach about a year past the real today, but expiries are rolled up to a year
    beyond that. Its holiday rules know those days already, so a Friday holiday is rolled the same way
    whenever this runs (unannounced ad-hoc closures aside, which nobody can know in advance).
    """
    cal: Any = xcals.get_calendar("XNYS")
    rules = cal.regular_holidays.holidays(pd.Timestamp(RULES_FROM), pd.Timestamp(RULES_TO))
    days = [*(ts.date() for ts in rules), *(ts.date() for ts in cal.adhoc_holidays)]
    return np.busdaycalendar(holidays=np.array(sorted(set(days)), dtype="datetime64[D]"))


@lru_cache(maxsize=4096)
def day_start_ns(ordinal: int) -> int:
    day = dt.date(1970, 1, 1) + dt.timedelta(days=ordinal)
    return int(dt.datetime.combine(day, dt.time(0), NEW_YORK).timestamp()) * 1_000_000_000


@lru_cache(maxsize=4096)
def session_close_ns(ordinal: int) -> int:
    day = dt.date(1970, 1, 1) + dt.timedelta(days=ordinal)
    return int(calendar.session_close(day).timestamp()) * 1_000_000_000


def occ_ticker(root: str, expiration: dt.date, call: bool, strike: float) -> str:
    return f"O:{root}{expiration:%y%m%d}{'C' if call else 'P'}{round(strike * 1000):08d}"


def option_root(underlying: str) -> str | None:
    """OCC root of an underlying (BRK.B -> BRKB); None for names that have no listed options here."""
    root = underlying.replace(".", "")
    return root if re.fullmatch(r"[A-Z]{1,6}", root) else None


def nice_step(spot: float, raw_step: float) -> float:
    floor = 0.5 if spot < 25 else 1.0 if spot < 100 else 2.5 if spot < 250 else 5.0 if spot < 1000 else 10.0
    want = max(raw_step, floor)
    return next((s for s in _NICE_STEPS if s >= want), _NICE_STEPS[-1])


@dataclass(frozen=True)
class _Inputs:
    """Per row of a pricing: what its underlying contributes (arrays of the rows' length)."""

    spot: F64
    spot_open: F64
    q: F64
    r20: F64  # log return of the split-free level over 20 sessions
    ref: F64  # the slow spot open interest centres on
    per_share: F64  # the split factor: contracts per share
    vol: F64
    volume: F64
    rho: F64
    eta: F64
    put_share: F64
    phase0: F64
    phase1: F64

    @staticmethod
    def concat(parts: list[_Inputs]) -> _Inputs:
        return _Inputs(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Inputs)))


def _concatenated(tables: list[Contracts]) -> Contracts:
    """Contracts of several underlyings as one table (for pricing; ``underlying`` is the first's)."""
    return Contracts(
        tables[0].underlying if tables else "",
        tables[0].as_of if tables else EPOCH,
        [t for table in tables for t in table.tickers],
        *(np.concatenate([getattr(t, name) for t in tables])
          for name in ("expiration", "listed", "monthly", "call", "strike", "key")),
    )  # fmt: skip


class OptionMarket:
    """Option chains of every optionable ticker of a :class:`Market`."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.seed = market.seed
        self.carry = Carry(market)
        self._rolled: dict[tuple[dt.date, bool], dt.date] = {}  # a few thousand dates at most
        self.expiries = self._schedule()
        self._exp_ord = np.array([e.expiration.toordinal() for e in self.expiries])
        self._list_ord = np.array([e.listed.toordinal() for e in self.expiries])
        self._by_expiration = {e.expiration: e for e in self.expiries}
        self._strikes: LRU[tuple[str, dt.date], Strikes | None] = LRU(20_000)
        self._contracts: LRU[tuple[str, dt.date, bool], Contracts] = LRU(128)
        self._chains: LRU[tuple[str, dt.date], Chain] = LRU(128)
        self._optionable_position = {u: k for k, u in enumerate(market.optionable)}
        self._slow: LRU[str, F64] = LRU(256)
        self._ranges: LRU[tuple[str, dt.date, int, int], RangeBlock] = LRU(
            RANGE_CACHE_CELLS, lambda block: block.weight
        )
        self.roots = {r: t for t in market.optionable if (r := option_root(t))}
        self._optionable = frozenset(market.optionable)
        self._breadth: dict[str, Breadth] = {}

    # -- listing ------------------------------------------------------------------------------------------

    def _roll(self, day: dt.date, forward: bool) -> dt.date:
        """The session on/after (or on/before) ``day``; beyond the sessions, by the holiday rules."""
        key = (day, forward)
        if key not in self._rolled:
            self._rolled[key] = self._roll_uncached(day, forward)
        return self._rolled[key]

    def _roll_uncached(self, day: dt.date, forward: bool) -> dt.date:
        m = self.market
        if EPOCH <= day <= m.last_day:
            i = m.last_session_on_or_before(day)
            if i is not None and forward and m.sessions[i] != np.datetime64(day, "D"):
                i += 1
            if i is not None and 0 <= i < len(m.sessions):
                return dt.date.fromordinal(int(ordinals(m.sessions[i : i + 1])[0]) + _EPOCH_ORDINAL)
        stamp = np.datetime64(day, "D")
        rolled = np.busday_offset(
            stamp, 0, roll="forward" if forward else "backward", busdaycal=rule_weekdays()
        )
        return dt.date.fromordinal(int(ordinals(np.array([rolled]))[0]) + _EPOCH_ORDINAL)

    def _schedule(self) -> list[Expiry]:
        start = EPOCH - dt.timedelta(days=MONTHLY_WINDOW + 14)
        end = self.market.last_day + dt.timedelta(days=MONTHLY_WINDOW + 14)
        friday = start + dt.timedelta(days=(4 - start.weekday()) % 7)
        out = []
        while friday <= end:
            monthly = 15 <= friday.day <= 21
            window = MONTHLY_WINDOW if monthly else WEEKLY_WINDOW
            listed = self._roll(friday - dt.timedelta(days=window), forward=True)
            out.append(Expiry(friday, self._roll(friday, forward=False), listed, monthly))
            friday += dt.timedelta(days=7)
        return out

    def breadth(self, underlying: str) -> Breadth:
        """How much of a chain the underlying lists (every underlying lists the full one by default)."""
        found = self._breadth.get(underlying)
        if found is None:
            found = self._breadth[underlying] = breadth(self.market.specs[underlying], self.market.universe)
        return found

    def _grid(self, series: Series, expiry: Expiry, listed: dt.date, n_target: int) -> tuple[F64, float]:
        """Strikes listed on ``listed``: about +-1.5 standard deviations around the previous close (the
        underlying's :class:`Breadth` sets the reach and the density)."""
        m = self.market
        b = self.breadth(series.ticker)
        ref = m.last_session_on_or_before(listed - dt.timedelta(days=1))
        ref = 0 if ref is None else ref
        factor = float(m.factor(series.ticker, to_days([listed]))[0])
        spot = float(series.level[ref]) * factor
        years = max((expiry.expiration - listed).days, 1) / 365.0
        half = b.width * m.specs[series.ticker].vol * math.sqrt(years) * spot
        step = nice_step(spot, half / (n_target * b.density))
        n_side = min(max(math.ceil(half / step), b.min_side), b.max_side)
        center = round(spot / step) * step
        grid = center + step * np.arange(-n_side, n_side + 1)
        return np.round(grid[grid > 0], 3), factor

    def strikes(self, underlying: str, expiry: Expiry) -> Strikes | None:
        return self._strikes.get((underlying, expiry.friday), lambda: self._make_strikes(underlying, expiry))

    def _make_strikes(self, underlying: str, expiry: Expiry) -> Strikes | None:
        series = self.market.series(underlying)
        b = self.breadth(underlying)
        if series is None or not (expiry.monthly or b.weeklies):
            return None
        listed = expiry.listed
        if expiry.monthly and b.monthly_window < MONTHLY_WINDOW:
            listed = self._roll(expiry.friday - dt.timedelta(days=b.monthly_window), forward=True)
        if listed > self.market.last_day:
            return None
        batches = [(listed, 8 if not expiry.monthly else 10)]
        dense = self._roll(expiry.friday - dt.timedelta(days=WEEKLY_WINDOW), forward=True)
        if expiry.monthly and b.dense and dense <= self.market.last_day:
            batches.append((dense, 8))
        seen: dict[int, tuple[float, int, float]] = {}
        for listed, n_target in batches:
            grid, factor = self._grid(series, expiry, listed, n_target)
            for k in grid.tolist():
                adj_key = round(k / factor * 1e6)
                seen.setdefault(adj_key, (k, listed.toordinal(), factor))
        rows = sorted(seen.items())
        return Strikes(
            grid=np.array([r[1][0] for r in rows]),
            listed=np.array([r[1][1] for r in rows], dtype=np.int64),
            factor=np.array([r[1][2] for r in rows]),
        )

    def contracts(self, underlying: str, as_of: dt.date, expired: bool = False) -> Contracts:
        """Contracts alive on ``as_of`` (or, with ``expired``, those that expired before it)."""
        key = (underlying, as_of, expired)
        return self._contracts.get(key, lambda: self._make_contracts(underlying, as_of, expired))

    def _make_contracts(self, underlying: str, as_of: dt.date, expired: bool) -> Contracts:
        root = option_root(underlying)
        day = as_of.toordinal()
        if expired:
            chosen = np.nonzero((self._exp_ord < day) & (self._exp_ord >= EPOCH.toordinal()))[0]
        else:
            chosen = np.nonzero((self._exp_ord >= day) & (self._list_ord <= day))[0]
        parts: list[tuple[Expiry, Strikes, B]] = []
        if root is not None and underlying in self._optionable:
            for i in chosen.tolist():
                expiry = self.expiries[i]
                strikes = self.strikes(underlying, expiry)
                if strikes is None:
                    continue
                alive = strikes.listed <= min(day, expiry.expiration.toordinal())
                if alive.any():
                    parts.append((expiry, strikes, alive))
        tickers: list[str] = []
        exp: list[I64] = []
        listed: list[I64] = []
        monthly: list[B] = []
        calls: list[B] = []
        strike: list[F64] = []
        adj: list[F64] = []
        for expiry, strikes, alive in parts:
            quote_day = expiry.expiration if expired else as_of
            factor = float(self.market.factor(underlying, to_days([quote_day]))[0])
            k = strikes.raw(factor)[alive]
            n = len(k)
            for call in (True, False):
                prefix = occ_ticker(root or "", expiry.expiration, call, 0.0)[:-8]  # one format per expiry
                tickers.extend([f"{prefix}{m:08d}" for m in np.round(k * 1000.0).astype(np.int64).tolist()])
                exp.append(np.full(n, expiry.expiration.toordinal(), dtype=np.int64))
                listed.append(strikes.listed[alive])
                monthly.append(np.full(n, expiry.monthly, dtype=np.bool_))
                calls.append(np.full(n, call, dtype=np.bool_))
                strike.append(k)
                adj.append(np.round(strikes.grid[alive] / strikes.factor[alive] * 1e6))
        exp_all = np.concatenate(exp) if exp else np.zeros(0, dtype=np.int64)
        call_all = np.concatenate(calls) if calls else np.zeros(0, dtype=np.bool_)
        adj_all = np.concatenate(adj) if adj else np.zeros(0)
        u_key = rng.text_key(underlying)
        keys = rng.hash64(
            self.seed, S_OPT, u_key, exp_all, call_all.astype(np.int64), adj_all.astype(np.int64)
        )
        return Contracts(
            underlying,
            as_of,
            tickers,
            exp_all,
            np.concatenate(listed) if listed else np.zeros(0, dtype=np.int64),
            np.concatenate(monthly) if monthly else np.zeros(0, dtype=np.bool_),
            call_all,
            np.concatenate(strike) if strike else np.zeros(0),
            np.atleast_1d(keys),
        )

    # -- pricing ------------------------------------------------------------------------------------------

    def quotes(self, contracts: Contracts, sessions: I64, strike: F64, *, greeks: bool = True) -> Quotes:
        """Price contracts on sessions (index arrays of one length, or broadcastable scalars).

        ``greeks=False`` skips the Greeks (most of the cost) for callers that want the day's bars only: the
        bars are the same numbers, while IV and the Greeks come back NaN.
        """
        sessions = np.asarray(sessions, dtype=np.int64)
        n = max(len(contracts), len(sessions))
        sessions = np.broadcast_to(sessions, (n,))
        return self._price(
            contracts, sessions, strike, self._underlying(contracts.underlying, sessions), greeks
        )

    def _underlying(self, u: str, sessions: I64) -> _Inputs:
        """What the underlying ``u`` contributes to pricing its contracts on ``sessions`` (one per row)."""
        m = self.market
        spec = m.specs[u]
        series = m.series(u)
        assert series is not None
        phase = rng.uniform(self.seed, S_IV, rng.text_key(u), np.arange(2)) * 2.0 * math.pi
        back = np.maximum(sessions - 20, 0)
        rho, eta = SMILE_ETF if spec.etf else SMILE_STOCK
        n = len(sessions)
        return _Inputs(
            spot=series.bars.close[sessions],
            spot_open=series.bars.open[sessions],
            q=self.carry.dividend_yield(u, sessions),
            r20=np.log(series.level[sessions] / series.level[back]),
            ref=self._slow_spot(u)[sessions] * series.factor[sessions],
            per_share=series.factor[sessions],
            vol=np.full(n, spec.vol),
            volume=np.full(n, spec.volume),
            rho=np.full(n, rho),
            eta=np.full(n, eta),
            put_share=np.full(n, 1.4 if spec.etf else 0.75),
            phase0=np.full(n, phase[0]),
            phase1=np.full(n, phase[1]),
        )

    def _price(self, contracts: Contracts, sessions: I64, strike: F64, u: _Inputs, greeks: bool) -> Quotes:
        """The model, row by row: every number of a row depends on that row's contract, session and
        underlying inputs only, so rows of many underlyings price together to the same bits as alone."""
        m = self.market
        n = len(sessions)
        day_ord = ordinals(m.sessions[sessions])  # days since 1970
        day_num = day_ord + _EPOCH_ORDINAL  # proleptic ordinals, like date.toordinal()
        spot, spot_open, q = u.spot, u.spot_open, u.q
        years = np.maximum(contracts.expiration - day_num, 0) / 365.0
        live = years > 0  # at the expiry day's close only intrinsic value is left
        rate = self.carry.rates(day_ord, years)
        key = contracts.key

        # Implied volatility: a slowly moving level (with a leverage effect), a term structure that
        # mean-reverts to the long-run level, and a skewed SSVI smile in forward log-moneyness (no static
        # arbitrage across strikes or expiries: see ssvi_variance).
        r20 = u.r20
        wave = 0.6 * np.sin(2 * math.pi * day_ord / 97.0 + u.phase0) + 0.4 * np.sin(
            2 * math.pi * day_ord / 263.0 + u.phase1
        )
        long_run = u.vol * 1.04
        short = long_run * np.exp(0.15 * wave + np.clip(-2.0 * r20, -0.3, 0.5))
        atm = long_run + (short - long_run) * np.exp(-years / 0.25)
        forward = spot * np.exp((rate - q) * years)
        smile_years = np.maximum(years, 1.0 / 365.0)
        theta_atm = atm * atm * smile_years  # ATM total variance: increases with expiry (see ssvi_variance)
        rho, eta = u.rho, u.eta
        iv = np.sqrt(ssvi_variance(np.log(strike / forward), theta_atm, rho, eta) / smile_years)
        intrinsic = np.maximum(np.where(contracts.call, spot - strike, strike - spot), 0.0)
        price, delta, gamma, theta, vega = (np.full(n, np.nan) for _ in range(5))
        price[~live] = intrinsic[~live]
        if live.any() and greeks:
            v = pricing.valuation(True, contracts.call[live], spot[live], strike[live], years[live], rate[live],
                                  q[live], iv[live])  # fmt: skip
            price[live], delta[live], gamma[live], theta[live], vega[live] = (v.price, v.delta, v.gamma, v.theta,
                                                                              v.vega)  # fmt: skip
        elif live.any():
            price[live] = pricing.price(True, contracts.call[live], spot[live], strike[live], years[live],
                                        rate[live], q[live], iv[live])  # fmt: skip
        # the vendor leaves out what it cannot price: no time left, a price that no vol moves, or one at its
        # exercise value (within half a tick), which any vol up to some level explains
        unpriced = ~live | ~(vega >= VEGA_FLOOR) | (price - intrinsic <= HALF_TICK)
        iv_served = np.where(unpriced, np.nan, iv)
        delta, gamma, theta, vega = (np.where(unpriced, np.nan, g) for g in (delta, gamma, theta, vega))

        # Open interest builds up after listing and falls off away from the money and with maturity. Positions
        # are sticky, so "the money" is a slow average of the spot, not the day's close: a big move on one
        # day does not wipe out yesterday's open interest.
        money = np.log(strike / u.ref) / (u.vol * np.sqrt(np.maximum(years, 1.0 / 12.0)))
        base = np.clip(u.volume / 2000.0, 100.0, 60000.0)
        side = np.where(contracts.call, 1.0, u.put_share)
        tenor = np.where(contracts.monthly, 1.6, 1.0) * (0.35 + np.exp(-years / 0.35))
        age = np.maximum(day_num - contracts.listed, 0)
        ramp = 1.0 - np.exp(-(age + 1.0) / 8.0)
        own = np.exp(0.35 * rng.normal(self.seed, S_OI, key))
        # contracts, not shares: a split multiplies them (the factor divides raw prices by the same ratio)
        per_share = u.per_share
        oi = np.floor(base * side * tenor * ramp * own * np.exp(-0.5 * money * money) / per_share).astype(
            np.int64
        )

        # The day's trading: marks around the model value inside a spread that widens with the price.
        z = rng.normal(self.seed, S_OPT, key[:, None], day_ord[:, None], np.arange(8))
        uu = rng.uniform(self.seed, S_OPT + 1, key[:, None], day_ord[:, None], np.arange(6))
        width = np.ceil(np.minimum(0.01 + 0.05 * price, 0.1 + 0.01 * price) * 100.0) / 100.0
        bid = np.maximum(np.round(price - width / 2.0, 2), 0.0)
        # no arbitrage against exercise: the ask and the midpoint are at least the intrinsic value
        floor_cents = np.ceil(np.round(intrinsic * 100.0, 6)) / 100.0
        ask = np.maximum(np.maximum(np.round(price + width / 2.0, 2), bid + 0.01), floor_cents)
        ask = np.maximum(ask, np.ceil(np.round((2.0 * intrinsic - bid) * 100.0, 6)) / 100.0)
        close = np.clip(
            np.round(price + width / 2.0 * np.clip(z[:, 0], -1, 1), 2),
            np.maximum(np.maximum(bid, 0.01), floor_cents),
            ask,
        )
        open_years = years + 6.5 / 24.0 / 365.0
        p_open = pricing.price(True, contracts.call, spot_open, strike, open_years, rate, q, iv)
        opened = np.maximum(np.round(p_open + width / 2.0 * np.clip(z[:, 1], -1, 1), 2), 0.01)
        high = np.round(np.maximum(opened, close) + np.abs(z[:, 2]) * width, 2)
        low = np.maximum(np.round(np.minimum(opened, close) - np.abs(z[:, 3]) * width, 2), 0.01)
        vwap = np.round(low + (high - low) * uu[:, 0], 4)
        flow = base * 0.25 * np.exp(-0.5 * (money / 0.7) ** 2) * (0.3 + 2.0 * np.exp(-years / 0.06))
        volume = np.maximum(np.round(flow * side * np.exp(0.6 * z[:, 4]) / per_share), 1.0).astype(np.int64)
        trades = np.clip(np.round(volume / (2.0 + 8.0 * uu[:, 1])), 1, volume).astype(np.int64)
        unique, inverse = np.unique(day_ord, return_inverse=True)
        close_ns = np.array([session_close_ns(int(d)) for d in unique], dtype=np.int64)[inverse]
        day_ns = np.array([day_start_ns(int(d)) for d in unique], dtype=np.int64)[inverse]
        return Quotes(
            years=years,
            spot=spot,
            iv=iv_served,
            fmv=np.round(price, 4),
            delta=delta,
            gamma=gamma,
            theta=theta,
            vega=vega,
            open_interest=oi,
            open=opened,
            high=high,
            low=low,
            close=close,
            vwap=vwap,
            volume=volume,
            trades=trades,
            bid=bid,
            ask=ask,
            bid_size=(1 + uu[:, 2] * 300).astype(np.int64),
            ask_size=(1 + uu[:, 3] * 300).astype(np.int64),
            trade_size=np.minimum(1 + (uu[:, 4] * 20).astype(np.int64), volume),
            exchange=300 + (uu[:, 5] * 25).astype(np.int64),
            quote_ns=close_ns - (np.abs(z[:, 5]) * 30e9).astype(np.int64),
            trade_ns=close_ns - (np.abs(z[:, 6]) * 900e9).astype(np.int64),
            day_ns=day_ns,
            close_ns=close_ns,
        )

    def _slow_spot(self, underlying: str) -> F64:
        """An exponential average of the adjusted close (half-life 10 sessions), for open interest."""

        def make() -> F64:
            series = self.market.series(underlying)
            assert series is not None
            alpha = 1.0 - 0.5 ** (1.0 / 10.0)
            out = (
                series.level.tolist()
            )  # Python floats: the same IEEE arithmetic, a tenth of numpy's per-item cost
            for i in range(1, len(out)):
                out[i] = out[i - 1] + alpha * (out[i] - out[i - 1])
            return np.array(out)

        return self._slow.get(underlying, make)

    # -- views --------------------------------------------------------------------------------------------

    def chain(self, underlying: str, day: dt.date) -> Chain | None:
        """The end-of-day chain on session ``day`` (cached), None if the day is no session."""
        i = self.market.session_index(day)
        if i is None or underlying not in self.market.index:
            return None
        return self._chains.get((underlying, day), lambda: self._make_chain_batch(underlying, day, i))

    def _make_chain_batch(self, underlying: str, day: dt.date, i: int) -> Chain:
        """In the whole-market universe a client walks thousands of underlyings in the universe's order: a
        miss prices the batch of neighbours ``underlying`` belongs to at once (the same bits as one by one)
        and caches them, so a whole-market snapshot costs a few large pricings, not 5,000 small ones."""
        m = self.market
        position = self._optionable_position.get(underlying) if m.universe == "market" else None
        if position is None:
            return self._make_chains([underlying], day, i)[0]
        first = position - position % SERIES_BATCH
        batch = [u for u in m.optionable[first : first + SERIES_BATCH]
                 if u == underlying or (u, day) not in self._chains]  # fmt: skip
        m.prefetch(batch)
        chains = self._make_chains(batch, day, i)
        for chain in chains:
            if chain.underlying != underlying:
                self._chains.put((chain.underlying, day), chain)
        return next(c for c in chains if c.underlying == underlying)

    def chains(self, underlyings: Sequence[str], day: dt.date) -> list[Chain]:
        """The end-of-day chains of many underlyings on session ``day`` (not cached), priced together: a
        whole-market day is then a few large vectorised pricings instead of 5,000 small ones, to the same
        bits (see :meth:`_price`). Keep batches within the series cache (``Market.prefetch``)."""
        i = self.market.session_index(day)
        known = [u for u in underlyings if u in self.market.index]
        return [] if i is None or not known else self._make_chains(known, day, i)

    def _make_chains(self, underlyings: Sequence[str], day: dt.date, i: int) -> list[Chain]:
        m = self.market
        tables = [self.contracts(u, day) for u in underlyings]
        prev = max(i - 1, 0)
        prev_day = m.sessions[prev].astype(dt.date)
        both = _concatenated(tables)
        n = len(both.key)
        quotes = self._price(both, np.full(n, i), both.strike, self._inputs(tables, i), True)
        before = np.concatenate([self._strike_on(t, prev_day) for t in tables])
        prev_close = self._price(both, np.full(n, prev), before, self._inputs(tables, prev), False).close
        out = []
        end = 0
        for t in tables:
            rows = slice(end, end := end + len(t))
            day_quotes = Quotes(*(getattr(quotes, f.name)[rows] for f in fields(Quotes)))
            f_day, f_prev = m.factor(t.underlying, m.sessions[[i, prev]])
            previous = prev_close[rows]
            if f_day != f_prev:
                previous = np.round(previous * (f_day / f_prev), 2)
            if prev == i:
                previous = day_quotes.open
            out.append(Chain(t.underlying, day, t, day_quotes, previous))
        return out

    def _inputs(self, tables: list[Contracts], session: int) -> _Inputs:
        return _Inputs.concat([self._underlying(t.underlying, np.full(len(t), session)) for t in tables])

    def _strike_on(self, contracts: Contracts, day: dt.date) -> F64:
        """The contracts' strikes as quoted on another day (differs only across a split)."""
        m = self.market
        f_then = m.factor(contracts.underlying, to_days([day]))[0]
        f_now = m.factor(contracts.underlying, to_days([contracts.as_of]))[0]
        if f_then == f_now:
            return contracts.strike
        return np.asarray(np.round(contracts.strike * (f_then / f_now), 3), dtype=np.float64)

    def parse(self, ticker: str) -> tuple[str, Expiry, bool, float] | None:
        """(underlying, expiry, is_call, strike) of an OCC ticker this market lists, else None."""
        match = OPTION_TICKER.match(ticker)
        if not match:
            return None
        root, ymd, cp, strike = match.groups()
        underlying = self.roots.get(root)
        try:
            expiration = dt.datetime.strptime(ymd, "%y%m%d").date()
        except ValueError:
            return None
        expiry = self._by_expiration.get(expiration)
        if underlying is None or expiry is None:
            return None
        return underlying, expiry, cp == "C", int(strike) / 1000.0

    def history(self, ticker: str, start: dt.date, end: dt.date) -> tuple[I64, DayBars] | None:
        """Session indexes and day bars of one contract for every day it was listed in [start, end].

        Served from the :class:`RangeBlock` of its (underlying, expiry, window): the first request of a
        window prices every strike of the expiry, the others only look up their cells.
        """
        parsed = self.parse(ticker)
        if parsed is None:
            return None
        underlying, expiry, call, strike = parsed
        strikes = self.strikes(underlying, expiry)
        if strikes is None:
            return None
        lo, hi = self.market.sessions_between(max(start, EPOCH), min(end, expiry.expiration))
        if lo >= hi:
            return None
        block = self._ranges.get(
            (underlying, expiry.friday, lo, hi),
            lambda: self._price_range(underlying, expiry, strikes, lo, hi),
        )
        rows, cols = np.nonzero((block.quoted == strike) & (block.cell >= 0))
        if len(cols) == 0:
            return None
        # Across a split one OCC ticker can name two contracts (the old strike 200 becomes 100 while the old
        # 400 becomes 200): the ticker means the contract that carries it on the last day asked for.
        j = int(rows[np.argmax(cols)])
        cols = cols[rows == j]
        cells = block.cell[j, cols] + (0 if call else block.count)
        return block.lo + cols, block.bars.take(cells)

    def _price_range(self, underlying: str, expiry: Expiry, strikes: Strikes, lo: int, hi: int) -> RangeBlock:
        """Price every listed (strike, side, session) of one expiry on sessions ``[lo, hi)`` at once."""
        m = self.market
        sessions = np.arange(lo, hi)
        factor = m.factor(underlying, m.sessions[sessions])
        quoted = np.round(strikes.grid[:, None] * (factor[None, :] / strikes.factor[:, None]), 3)
        day_num = ordinals(m.sessions[sessions]) + _EPOCH_ORDINAL
        listed = strikes.listed[:, None] <= day_num[None, :]
        row, col = np.nonzero(listed)
        count = len(row)
        cell = np.full(listed.shape, -1, dtype=np.int64)
        cell[row, col] = np.arange(count)
        both_rows, both_cols = np.tile(row, 2), np.tile(col, 2)
        call = np.repeat([True, False], count)
        adj = np.round(strikes.grid / strikes.factor * 1e6).astype(np.int64)[both_rows]
        exp_ord = expiry.expiration.toordinal()
        keys = rng.hash64(self.seed, S_OPT, rng.text_key(underlying), exp_ord, call.astype(np.int64), adj)
        n = 2 * count
        contracts = Contracts(
            underlying,
            expiry.expiration,
            [],
            np.full(n, exp_ord, dtype=np.int64),
            strikes.listed[both_rows],
            np.full(n, expiry.monthly),
            call,
            quoted[both_rows, both_cols],
            np.atleast_1d(keys),
        )
        if not count:
            none, no = np.zeros(0), np.zeros(0, dtype=np.int64)
            return RangeBlock(lo, quoted, cell, 0, DayBars(none, none, none, none, none, no, no))
        q = self.quotes(contracts, lo + both_cols, contracts.strike, greeks=False)
        return RangeBlock(lo, quoted, cell, count, DayBars(*(getattr(q, f) for f in DAY_BAR_FIELDS)))
