"""Stock prices: a geometric Brownian motion per ticker on NYSE sessions, daily OHLCV bars and splits.

The path is built so that any (ticker, day) can be computed without the rest of the market and without the
days before it, and gives the same value however it is reached:

* it lives on weekdays, year by year; a year's daily shocks are a Brownian bridge pinned to a yearly total,
  so a day's level needs the yearly totals (a few numbers) plus that one year's shocks, never the whole
  history, and future dates never change past ones;
* every shock comes from :mod:`workflows.simulator.rng`, a hash of (seed, ticker, day);
* levels are anchored at :data:`ANCHOR` (near the default "now") so the default tickers trade near their real
  prices in the demo's window.

Splits never move the path. Raw prices are the path divided by ``C(d)``, the cumulative ratio of the splits
executed on or before ``d`` (a share held since the :data:`EPOCH` is the base), times one per-ticker constant
``C(ANCHOR)`` that makes the raw price on :data:`ANCHOR` the spec's level. So ``raw(d) = level(d) * F(d)`` with
``F(d) = C(ANCHOR) / C(d)``, and a raw price depends on (seed, ticker, d) and the splits up to ``d`` (and up to
``ANCHOR``, a fixed past date): never on how far ahead the calendar reaches, so splits that the calendar
learns about as real time passes cannot change a raw price already served. Raw bars are rounded like real
quotes (cents above $1); adjusted bars divide raw ones by the splits executed after the bar and on or before
the cut-off (the request's "now").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from workflows import calendar
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator import rng
from workflows.simulator.universe import (
    DEFAULT_SPECS,
    MARKET_TICKERS,
    UNIVERSES,
    Split,
    TickerSpec,
    make_splits,
    market_underlyings,
    synthetic_names,
    synthetic_specs,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Days = NDArray[np.datetime64]

#: First session with data; the path itself starts a year earlier so the first bar has a previous close.
EPOCH = dt.date(2018, 1, 2)
#: Levels in :data:`universe.DEFAULT_SPECS` are the adjusted prices on this day.
ANCHOR = dt.date(2026, 11, 2)
#: The year in which the picked default stocks split (inside the ~200 sessions before the default now).
SPLIT_YEAR = 2026
PATH_FIRST_YEAR = EPOCH.year - 1
#: Time step of the path: one weekday (holidays accumulate into the next session's move).
DT = 1.0 / 261.0
S_DAY, S_YEAR, S_BAR = 21, 22, 23
#: Series kept (about 0.2 MB each) and computed together by :meth:`Market.prefetch`.
SERIES_CACHE, SERIES_BATCH = 64, 32

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small least-recently-used cache: memory stays bounded however many days a client replays.

    ``size`` counts entries, or with ``weigh`` the sum of the entries' weights (e.g. priced cells), for
    values whose size varies by orders of magnitude (an ETF's chain against a small cap's).
    """

    def __init__(self, size: int, weigh: Callable[[V], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh
        self._weight = 0
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()  # steps may share one model across threads

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return self.put(key, make())

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` (unless the key is already held), dropping the least recently used beyond size."""
        with self._lock:
            if key not in self._data:
                self._data[key] = value
                self._weight += self._weigh(value) if self._weigh else 1
            while self._weight > self.size and len(self._data) > 1:
                _, dropped = self._data.popitem(last=False)
                self._weight -= self._weigh(dropped) if self._weigh else 1
            return self._data.get(key, value)

    @property
    def weight(self) -> int:
        """Entries held, or with ``weigh`` their total weight."""
        return self._weight


def to_days(values: Sequence[dt.date] | Days) -> Days:
    return np.asarray(values, dtype="datetime64[D]")


def ordinals(days: Days) -> I64:
    """Days since 1970-01-01 (the hash coordinate of a day)."""
    return days.astype("datetime64[D]").astype(np.int64)


@lru_cache(maxsize=1)
def calendar_end() -> dt.date:
    """The last session the NYSE calendar knows (about a year ahead of the real today)."""
    probe = dt.date.today() + dt.timedelta(days=400)
    for _ in range(200):
        try:
            return calendar.previous_trading_days(probe, 1)[0]
        except Exception:  # exchange_calendars' DateOutOfBounds: step back into its range
            probe -= dt.timedelta(days=3)
    raise RuntimeError("the NYSE calendar has no sessions in the coming year")


@lru_cache(maxsize=64)
def _weekdays(year: int) -> Days:
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    return days[np.is_busday(days)]


def round_price(x: F64) -> F64:
    """Raw prices trade in cents above $1 and in 1/100 cent below; never zero."""
    x = np.maximum(x, 0.0001)
    return np.where(x >= 1.0, np.round(x, 2), np.round(x, 4))


@dataclass(frozen=True)
class Bars:
    """Daily bars as arrays: one ticker over days, or many tickers on one day."""

    tickers: list[str]
    days: Days
    open: F64
    high: F64
    low: F64
    close: F64
    vwap: F64
    volume: F64
    trades: I64

    def __len__(self) -> int:
        return len(self.close)

    def take(self, index: NDArray[np.int64] | slice) -> Bars:
        return Bars(
            tickers=list(np.asarray(self.tickers, dtype=object)[index]),
            days=self.days[index],
            open=self.open[index],
            high=self.high[index],
            low=self.low[index],
            close=self.close[index],
            vwap=self.vwap[index],
            volume=self.volume[index],
            trades=self.trades[index],
        )


@dataclass(frozen=True)
class Series:
    """One ticker on every session from :data:`EPOCH`: raw bars plus the split-free close and split factor."""

    ticker: str
    bars: Bars
    level: F64  # the close in ANCHOR's share basis: a continuous path, no jumps at splits
    factor: F64  # F(d) = C(ANCHOR) / C(d): raw close = level * factor (before rounding)


class Market:
    """The simulated US stock market for one seed. Pure computation; the HTTP layer lives in ``app``."""

    def __init__(
        self,
        seed: int = 7,
        underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
        market_size: int = 3000,
        universe: str = "default",
    ) -> None:
        if universe not in UNIVERSES:
            raise ValueError(f"unknown universe {universe!r}: expected one of {', '.join(UNIVERSES)}")
        self.universe = universe
        self.seed = int(seed)
        self.universe = universe
        self.underlyings = tuple(dict.fromkeys(t.upper() for t in underlyings))
        named = list(dict.fromkeys([*self.underlyings, *DEFAULT_SPECS]))
        if universe == "market":  # every optionable name, among the US market's ~10,000 tickers
            market_size = max(market_size, MARKET_TICKERS)
        extra = synthetic_names(self.seed, max(0, market_size - len(named)), named)
        self.tickers: tuple[str, ...] = (*named, *extra)
        self.index = {t: i for i, t in enumerate(self.tickers)}
        #: Tickers that list options: every one in the default universe, the market's optionable ones (and
        #: any underlying asked for by name) in the whole-market universe.
        self.optionable: tuple[str, ...] = (
            self.tickers
            if universe == "default"
            else tuple(dict.fromkeys([*market_underlyings(self.seed), *self.underlyings]))
        )
        others = [t for t in self.tickers if t not in DEFAULT_SPECS]
        by_name = {s.ticker: s for s in synthetic_specs(self.seed, others)}
        self.specs: dict[str, TickerSpec] = {t: DEFAULT_SPECS.get(t) or by_name[t] for t in self.tickers}
        specs = [self.specs[t] for t in self.tickers]
        self._keys = np.array([rng.text_key(t) for t in self.tickers], dtype=np.uint64)
        self._price = np.array([s.price for s in specs])
        self._vol = np.array([s.vol for s in specs])
        self._drift = np.array([(s.drift - 0.5 * s.vol**2) * DT for s in specs])
        self._volume = np.array([s.volume for s in specs])
        self._size = np.array([s.trade_size for s in specs])

        self.first_day = EPOCH
        self.last_day = calendar_end()
        self.sessions = to_days(calendar.trading_days(EPOCH, self.last_day))
        self._session_ords = ordinals(self.sessions)
        self.splits: tuple[Split, ...] = tuple(
            make_splits(self.seed, self.tickers, self.sessions, SPLIT_YEAR)
        )
        # Per ticker: execution dates and C after each split (C[0] = 1 before the first one).
        self._split_table: dict[str, tuple[I64, F64]] = {}
        for t in {s.ticker for s in self.splits}:
            own = [s for s in self.splits if s.ticker == t]
            dates = ordinals(to_days([s.execution_date for s in own]))
            self._split_table[t] = (dates, np.cumprod([1.0, *(s.ratio for s in own)], dtype=np.float64))

        self._years = np.arange(PATH_FIRST_YEAR, self.last_day.year + 1)
        counts = np.array([len(_weekdays(int(y))) for y in self._years], dtype=np.float64)
        totals = rng.normal(self.seed, S_YEAR, self._keys[:, None], self._years[None, :]) * np.sqrt(counts)
        self._totals = totals
        self._year_start = np.cumsum(totals, axis=1) - totals
        self._all = np.arange(len(self.tickers))
        self._x_cache: LRU[int, F64] = LRU(3)
        self._w_anchor: F64 | None = None
        self._series_cache: LRU[str, Series] = LRU(SERIES_CACHE)
        self._cross_cache: LRU[int, Bars] = LRU(32)

    # -- calendar helpers -------------------------------------------------------------------------------

    def session_index(self, day: dt.date) -> int | None:
        i = int(np.searchsorted(self._session_ords, ordinals(to_days([day]))[0]))
        if i < len(self.sessions) and self._session_ords[i] == ordinals(to_days([day]))[0]:
            return i
        return None

    def sessions_between(self, start: dt.date, end: dt.date) -> tuple[int, int]:
        """Index range ``[lo, hi)`` of the sessions from ``start`` to ``end`` (both included)."""
        lo = int(np.searchsorted(self.sessions, np.datetime64(start, "D"), side="left"))
        hi = int(np.searchsorted(self.sessions, np.datetime64(end, "D"), side="right"))
        return lo, max(lo, hi)

    def last_session_on_or_before(self, day: dt.date) -> int | None:
        i = int(np.searchsorted(self.sessions, np.datetime64(day, "D"), side="right")) - 1
        return i if i >= 0 else None

    # -- the path -----------------------------------------------------------------------------------------

    def _x(self, idx: I64, year: int) -> F64:
        """Within-year path of the tickers ``idx``: cumulative bridge shocks, pinned to the yearly total."""
        if len(idx) == len(self.tickers) and year in self._years:
            return self._x_cache.get(year, lambda: self._x_raw(self._all, year))
        return self._x_raw(idx, year)

    def _x_raw(self, idx: I64, year: int) -> F64:
        days = _weekdays(year)
        n = len(days)
        z = rng.normal(self.seed, S_DAY, self._keys[idx][:, None], ordinals(days)[None, :])
        c = np.cumsum(z, axis=1)
        total = self._totals[idx, year - PATH_FIRST_YEAR]
        x: F64 = c + ((total - c[:, -1]) / n)[:, None] * np.arange(1, n + 1)[None, :]
        return x

    def _w(self, idx: I64, days: Days) -> F64:
        """Brownian level W of tickers ``idx`` at weekdays ``days``: shape (len(idx), len(days))."""
        out = np.empty((len(idx), len(days)))
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years):
            cols = np.nonzero(years == year)[0]
            first = np.datetime64(f"{int(year)}-01-01", "D")
            j = np.busday_count(first, days[cols])
            x = self._x(idx, int(year))
            out[:, cols] = self._year_start[idx, int(year) - PATH_FIRST_YEAR][:, None] + x[:, j]
        return out

    def _anchor_w(self, idx: I64) -> F64:
        if len(idx) == len(self.tickers):
            if self._w_anchor is None:
                self._w_anchor = self._w(self._all, to_days([ANCHOR]))[:, 0]
            return self._w_anchor
        return self._w(idx, to_days([ANCHOR]))[:, 0]

    def _level(self, idx: I64, days: Days) -> F64:
        """Closes of ``idx`` on ``days`` in ANCHOR's share basis (shape (len(idx), len(days)))."""
        w = self._w(idx, days) - self._anchor_w(idx)[:, None]
        g = np.busday_count(np.datetime64(ANCHOR, "D"), days).astype(np.float64)
        log_s = (
            np.log(self._price[idx])[:, None]
            + self._drift[idx][:, None] * g[None, :]
            + (self._vol[idx] * np.sqrt(DT))[:, None] * w
        )
        return np.asarray(np.exp(log_s), dtype=np.float64)

    def cumulative(self, ticker: str, days: Days) -> F64:
        """C(d): the product of the ratios of the ticker's splits executed on or before ``d``."""
        table = self._split_table.get(ticker)
        if table is None:
            return np.ones(len(days))
        dates, cum = table
        return np.asarray(cum[np.searchsorted(dates, ordinals(days), side="right")], dtype=np.float64)

    def factor(self, ticker: str, days: Days) -> F64:
        """Split factor F(d) = C(ANCHOR) / C(d): raw prices are ``level * F``, raw volumes ``shares / F``.

        Only splits on or before ``max(d, ANCHOR)`` enter, so F of a past day never changes when later
        splits are added to the schedule. Ratios ``F(a) / F(b)`` are ``C(b) / C(a)``.
        """
        if ticker not in self._split_table:
            return np.ones(len(days))
        anchor = self.cumulative(ticker, to_days([ANCHOR]))[0]
        return np.asarray(anchor / self.cumulative(ticker, days), dtype=np.float64)

    def _bars(self, idx: I64, days: Days, close: F64, prev: F64, factor: F64) -> Bars:
        """Raw bars, element by element (``idx``, ``days`` and the price arrays have one shape)."""
        sd = self._vol[idx] * np.sqrt(DT)
        z = rng.normal(self.seed, S_BAR, self._keys[idx][:, None], ordinals(days)[:, None], np.arange(5))
        opened = prev * np.exp(0.35 * sd * z[:, 0])
        high = np.maximum(opened, close) * np.exp(0.45 * sd * np.abs(z[:, 1]))
        low = np.minimum(opened, close) * np.exp(-0.45 * sd * np.abs(z[:, 2]))
        typical = (high + low + close) / 3.0 * np.exp(0.05 * sd * z[:, 3])
        move = np.abs(np.log(close / prev)) / sd
        shares = self._volume[idx] * np.exp(0.35 * z[:, 4] + 0.25 * (np.minimum(move, 6.0) - 0.8))
        o, h, lo, c = (round_price(p * factor) for p in (opened, high, low, close))
        vw = np.clip(np.round(typical * factor, 4), lo, h)
        volume = np.maximum(np.round(shares / factor), 1.0)
        trades = np.maximum(np.round(shares / self._size[idx]), 1.0).astype(np.int64)
        tickers = [self.tickers[i] for i in idx.tolist()]
        return Bars(tickers, days, o, h, lo, c, vw, volume, trades)

    # -- public views -------------------------------------------------------------------------------------

    def series(self, ticker: str) -> Series | None:
        """Every session's raw bar for one ticker (cached)."""
        if ticker not in self.index:
            return None
        return self._series_cache.get(ticker, lambda: self._make_series(ticker))

    def _make_series(self, ticker: str) -> Series:
        return self._make_many([ticker])[0]

    def _make_many(self, tickers: Sequence[str]) -> list[Series]:
        """Series of several tickers in one vectorised pass (every number is elementwise per ticker, so the
        same as one at a time: ``tests/simulator/test_sim_universe.py`` holds them equal)."""
        idx = np.array([self.index[t] for t in tickers])
        before = np.busday_offset(np.datetime64(EPOCH, "D"), -1, roll="backward")
        days = np.concatenate([[before], self.sessions]).astype("datetime64[D]")
        levels = self._level(idx, days)
        out = []
        for row, (i, ticker) in enumerate(zip(idx.tolist(), tickers, strict=True)):
            level = levels[row]
            factor = self.factor(ticker, self.sessions)
            bars = self._bars(np.full(len(self.sessions), i), self.sessions, level[1:], level[:-1], factor)
            out.append(Series(ticker, bars, level[1:], factor))
        return out

    def prefetch(self, tickers: Sequence[str]) -> None:
        """Compute the series of many tickers at once (a whole-market day's chains need every one): the
        per-ticker cost is mostly fixed overhead, which a batch pays once. Keep batches within the cache."""
        todo = [t for t in dict.fromkeys(tickers) if t in self.index]
        for first in range(0, len(todo), SERIES_BATCH):
            for series in self._make_many(todo[first : first + SERIES_BATCH]):
                self._series_cache.put(series.ticker, series)

    def cross_section(self, day: dt.date) -> Bars | None:
        """Raw bars of the whole universe on one session (cached), or None on a non-trading day."""
        i = self.session_index(day)
        if i is None:
            return None
        return self._cross_cache.get(i, lambda: self._make_cross(i))

    def _make_cross(self, i: int) -> Bars:
        day = self.sessions[i]
        before = np.busday_offset(np.datetime64(EPOCH, "D"), -1, roll="backward")
        pair = np.array([self.sessions[i - 1] if i > 0 else before, day], dtype="datetime64[D]")
        level = self._level(self._all, pair)
        factor = np.ones(len(self.tickers))
        for t in self._split_table:
            factor[self.index[t]] = self.factor(t, to_days([day]))[0]
        days = np.full(len(self.tickers), day, dtype="datetime64[D]")
        return self._bars(self._all, days, level[:, 1], level[:, 0], factor)

    def adjust(self, bars: Bars, cutoff: dt.date) -> Bars:
        """Split-adjust raw bars for the splits executed after each bar and on or before ``cutoff``."""
        ratio = np.ones(len(bars))
        cut = to_days([cutoff])[0]
        rows: dict[str, list[int]] = {}
        for j, t in enumerate(bars.tickers):
            if t in self._split_table:
                rows.setdefault(t, []).append(j)
        for t, js in rows.items():
            days = bars.days[js]
            ratio[js] = self.cumulative(t, np.maximum(days, cut)) / self.cumulative(t, days)
        if np.all(ratio == 1.0):
            return bars

        def adj(p: F64) -> F64:
            return np.asarray(np.round(p / ratio, 4), dtype=np.float64)

        return Bars(
            bars.tickers,
            bars.days,
            adj(bars.open),
            adj(bars.high),
            adj(bars.low),
            adj(bars.close),
            adj(bars.vwap),
            bars.volume * ratio,
            bars.trades,
        )

    def grouped(self, day: dt.date, *, adjusted: bool, cutoff: dt.date) -> Bars | None:
        bars = self.cross_section(day)
        if bars is None:
            return None
        return self.adjust(bars, cutoff) if adjusted else bars

    def bars(
        self, ticker: str, start: dt.date, end: dt.date, *, adjusted: bool, cutoff: dt.date
    ) -> Bars | None:
        """One ticker's bars from ``start`` to ``end`` (both included), never after ``cutoff``."""
        series = self.series(ticker)
        if series is None:
            return None
        lo, hi = self.sessions_between(start, min(end, cutoff))
        bars = series.bars.take(slice(lo, hi))
        return self.adjust(bars, cutoff) if adjusted else bars
