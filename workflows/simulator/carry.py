"""The simulated risk-free curve and dividends: what the simulator serves and exactly what it prices with.

* A Treasury par-yield curve per session (11 maturities, percent, two decimals as published): a
  Nelson-Siegel shape whose level and slope drift slowly with the date, a pure function of (seed, day).
* Quarterly cash dividends for every ticker with a dividend yield: ex-dates on a per-ticker phase, declared
  four weeks ahead, the amount a quarter of the yield times the close before the declaration, per share of
  the ex-date (a split in between divides it), so splits change later amounts the way real dividends do.

Options are priced with :mod:`workflows.pricing.carry`'s conventions applied to these served rows, so anyone
downstream can recompute the simulator's Greeks from the API's data alone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from workflows.pricing import carry
from workflows.simulator import rng
from workflows.simulator.market import EPOCH, F64, I64, Market, ordinals, to_days

S_CURVE, S_DIV = 51, 52
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
QUARTER_DAYS = 91
DECLARATION_LEAD_DAYS = 28
PAY_LAG_DAYS = 14
MATURITY_NAMES = tuple(carry.MATURITIES)
MATURITY_YEARS = np.array(list(carry.MATURITIES.values()))


def curve_yields(seed: int, day_ordinals: I64) -> F64:
    """Par yields in percent, shape (days, 11 maturities), for days given as days since 1970."""
    d = np.asarray(day_ordinals, dtype=np.float64)[:, None]
    phase = rng.uniform(seed, S_CURVE, np.arange(3)) * 2.0 * math.pi
    long_run = (
        3.2
        + 1.3 * np.sin(2 * math.pi * d / 2900.0 + phase[0])
        + 0.25 * np.sin(2 * math.pi * d / 410.0 + phase[1])
    )
    slope = 1.1 * np.sin(2 * math.pi * d / 1700.0 + phase[2])  # short minus long
    hump = 0.4 * np.cos(2 * math.pi * d / 900.0 + phase[1])
    m = MATURITY_YEARS[None, :] / 2.0
    loading = (1.0 - np.exp(-m)) / m
    y = long_run + slope * loading + hump * (loading - np.exp(-m))
    return np.asarray(np.round(np.clip(y, 0.01, None), 2), dtype=np.float64)


@dataclass(frozen=True)
class Dividends:
    """One ticker's cash dividends, sorted by ex-date (ordinals are days since 1970)."""

    ticker: str
    ex_date: I64
    declared: I64
    record: I64
    paid: I64
    amount: F64
    ids: list[str]

    def __len__(self) -> int:
        return len(self.amount)


class Carry:
    """Curve and dividends of one :class:`Market`."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.seed = market.seed

    def curve(self, days: I64) -> F64:
        return curve_yields(self.seed, days)

    @lru_cache(maxsize=4096)  # noqa: B019 (one Carry per market model, kept for the process)
    def dividends(self, ticker: str) -> Dividends:
        """Quarterly dividends from a year before the first session to the market's last day."""
        m = self.market
        spec = m.specs.get(ticker)
        series = m.series(ticker)
        empty = np.zeros(0, dtype=np.int64)
        if spec is None or series is None or spec.dividend_yield <= 0:
            return Dividends(ticker, empty, empty, empty, empty, np.zeros(0), [])
        key = rng.text_key(ticker)
        phase = int(rng.hash64(self.seed, S_DIV, key)) % QUARTER_DAYS
        first = ordinals(to_days([EPOCH]))[0] - 365 + phase
        last = ordinals(to_days([m.last_day]))[0]
        raw = np.arange(first, last + 1, QUARTER_DAYS, dtype=np.int64)
        ex = _roll_weekday(raw)
        declared = _roll_weekday(ex - DECLARATION_LEAD_DAYS, forward=False)
        # the close of the last session before the declaration, in that day's share basis
        idx = np.clip(
            np.searchsorted(m.sessions.astype("datetime64[D]").astype(np.int64), declared) - 1, 0, None
        )
        close = series.bars.close[idx]
        # per share of the ex-date: a split between the reference close and the ex-date divides the amount
        basis = m.cumulative(ticker, m.sessions[idx]) / m.cumulative(ticker, ex.astype("datetime64[D]"))
        amount = np.round(spec.dividend_yield * close / 4.0 * basis, 4)
        ids = [f"E{int(h):016x}" for h in rng.hash64(self.seed, S_DIV + 1, key, ex)]
        return Dividends(ticker, ex, declared, _roll_weekday(ex + 1), ex + PAY_LAG_DAYS, amount, ids)

    def dividend_yield(self, ticker: str, sessions: I64) -> F64:
        """The continuous yield the options of ``ticker`` are priced with on sessions (market indexes):
        the latest dividend declared by the day, times four, per share of the day, over the day's close."""
        m = self.market
        divs = self.dividends(ticker)
        series = m.series(ticker)
        assert series is not None
        on = m.sessions[sessions]
        days = ordinals(on)
        if len(divs) == 0:
            return np.zeros(len(days))
        j = np.clip(np.searchsorted(divs.declared, days, side="right") - 1, 0, None)
        fresh = (divs.declared[j] <= days) & (days - divs.ex_date[j] <= carry.DIVIDEND_STALENESS_DAYS)
        ex_days = divs.ex_date[j].astype("datetime64[D]")
        # a dividend of pre-split shares is worth less per share of the day: divide by the splits since
        splits_since = m.cumulative(ticker, np.maximum(on, ex_days)) / m.cumulative(ticker, ex_days)
        annual = np.where(fresh, divs.amount[j] * 4.0 / splits_since, 0.0)
        return carry.dividend_yield(annual, series.bars.close[sessions])

    def rates(self, days: I64, years: F64) -> F64:
        """The continuous rate of each row: its day's curve (days since 1970) at its years to expiry."""
        out = np.empty(len(years))
        unique, inverse = np.unique(days, return_inverse=True)
        curves = self.curve(unique)
        for i in range(len(unique)):
            rows = inverse == i
            out[rows] = carry.rate_for(
                years[rows], dict(zip(MATURITY_NAMES, curves[i].tolist(), strict=True))
            )
        return out


def _roll_weekday(days: I64, forward: bool = True) -> I64:
    """Days since 1970 rolled to a weekday."""
    dates = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    rolled = np.busday_offset(dates, 0, roll="forward" if forward else "backward")
    return np.asarray(rolled.astype(np.int64), dtype=np.int64)


def iso(day_ordinal: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day_ordinal))).isoformat()


__all__ = ["MATURITY_NAMES", "Carry", "Dividends", "curve_yields", "iso"]
