"""The simulated stock universe: per-ticker parameters, synthetic ticker names and corporate splits.

The default underlyings get hand-set levels, volatilities and volumes near their real ones (as of late 2026)
so the dashboard looks plausible; every other ticker's parameters are drawn from (seed, ticker), never from
its position in the universe, so adding tickers or changing ``market_size`` leaves existing tickers alone.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from workflows.simulator import rng

# Stream tags: each kind of draw gets its own hash stream so that no two purposes share numbers.
S_SPEC, S_NAME, S_SPLIT, S_PICK = 11, 12, 13, 14


@dataclass(frozen=True)
class TickerSpec:
    """Parameters of one ticker's price process, in today's (post-split) share basis."""

    ticker: str
    price: float  # level at the anchor date (see market.ANCHOR)
    vol: float  # annualised volatility of the GBM
    drift: float  # annualised drift
    volume: float  # mean daily shares traded
    dividend_yield: float
    trade_size: float  # mean shares per transaction, for the bar's ``n``
    etf: bool = False


@dataclass(frozen=True)
class Split:
    """A forward (``split_to > split_from``) or reverse split, effective at the open of ``execution_date``."""

    ticker: str
    execution_date: dt.date
    split_from: float
    split_to: float

    @property
    def ratio(self) -> float:
        """New shares per old share: raw prices before the split are ``ratio`` times the adjusted ones."""
        return self.split_to / self.split_from

    @property
    def id(self) -> str:
        digest = rng.text_key(f"{self.ticker}|{self.execution_date}|{self.split_from}|{self.split_to}")
        return f"E{digest:016x}"


def _spec(t: str, price: float, vol: float, volume: float, q: float, etf: bool = False) -> TickerSpec:
    return TickerSpec(t, price, vol, 0.08, volume, q, 150.0 if etf else 90.0, etf)


DEFAULT_SPECS: dict[str, TickerSpec] = {
    s.ticker: s
    for s in (
        _spec("AAPL", 230.0, 0.27, 55e6, 0.005),
        _spec("MSFT", 480.0, 0.25, 22e6, 0.007),
        _spec("NVDA", 180.0, 0.50, 190e6, 0.0003),
        _spec("AMZN", 225.0, 0.32, 42e6, 0.0),
        _spec("GOOGL", 250.0, 0.30, 30e6, 0.004),
        _spec("META", 650.0, 0.38, 14e6, 0.003),
        _spec("TSLA", 400.0, 0.60, 100e6, 0.0),
        _spec("AVGO", 340.0, 0.45, 25e6, 0.007),
        _spec("JPM", 300.0, 0.24, 9e6, 0.019),
        _spec("V", 340.0, 0.20, 7e6, 0.007),
        _spec("UNH", 330.0, 0.35, 8e6, 0.025),
        _spec("XOM", 115.0, 0.25, 15e6, 0.034),
        _spec("LLY", 900.0, 0.33, 3.5e6, 0.006),
        _spec("COST", 950.0, 0.22, 2e6, 0.005),
        _spec("NFLX", 1100.0, 0.40, 4e6, 0.0),
        _spec("AMD", 200.0, 0.50, 45e6, 0.0),
        _spec("BAC", 50.0, 0.27, 38e6, 0.022),
        _spec("SPY", 600.0, 0.16, 70e6, 0.012, etf=True),
        _spec("QQQ", 520.0, 0.20, 40e6, 0.006, etf=True),
        _spec("IWM", 230.0, 0.22, 30e6, 0.012, etf=True),
    )
}

#: How many of the default stocks get a split in the anchor year, and the ratios they draw from.
DEFAULT_SPLITS = 2
FORWARD_RATIOS = (2, 4, 5, 10)
REVERSE_RATIOS = (5, 10, 20)
#: Yearly probability that a synthetic ticker splits (forward), or reverse-splits.
P_FORWARD, P_REVERSE = 0.006, 0.002


def synthetic_specs(seed: int, tickers: Sequence[str]) -> list[TickerSpec]:
    """Plausible parameters for tickers that are not hand-set, drawn from (seed, ticker) in one pass."""
    if not tickers:
        return []
    keys = np.array([rng.text_key(t) for t in tickers], dtype=np.uint64)[:, None]
    z = rng.normal(seed, S_SPEC, keys, np.arange(4))
    u = rng.uniform(seed, S_SPEC + 100, keys, np.arange(3))
    price = np.clip(np.exp(np.log(35.0) + z[:, 0]), 0.8, 1500.0)
    vol = np.clip(0.38 * np.exp(0.35 * z[:, 1]), 0.12, 0.85)
    preferred = np.array(["p" in t for t in tickers])
    price = np.where(preferred, 25.0 * np.exp(0.05 * z[:, 0]), price)
    vol = np.where(preferred, 0.08, vol)
    volume = np.clip(6e5 * np.exp(1.4 * z[:, 2]) * (35.0 / price) ** 0.3, 2e3, 8e7)
    q = np.where(u[:, 0] < 0.4, 0.0, 0.04 * u[:, 1])
    size = np.clip(100.0 * np.exp(0.3 * z[:, 3]), 30.0, 400.0)
    return [
        TickerSpec(t, round(float(p), 2), float(v), float(0.12 * d), float(vo), float(qq), float(sz))
        for t, p, v, d, vo, qq, sz in zip(tickers, price, vol, u[:, 2], volume, q, size, strict=True)
    ]


_LENGTHS = np.array([1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5])
_LETTERS = np.array(list(string.ascii_uppercase))


def _names(seed: int, start: int, count: int) -> list[str]:
    h = rng.hash64(seed, S_NAME, np.arange(start, start + count)[:, None], np.arange(8))
    lengths = _LENGTHS[(h[:, 0] % np.uint64(12)).astype(np.int64)]
    letters = _LETTERS[(h[:, 1:7] % np.uint64(26)).astype(np.int64)]
    kinds = (h[:, 7] % np.uint64(200)).astype(np.int64)
    out = []
    for row, length, kind in zip(letters.tolist(), lengths.tolist(), kinds.tolist(), strict=True):
        base = "".join(row[:length])
        if kind < 3 and length <= 4:  # share classes, like BRK.B
            base = f"{base}.{'AB'[kind % 2]}"
        elif kind < 5 and length <= 4:  # preferreds, like KIMpL
            base = f"{base}p{row[5]}"
        out.append(base)
    return out


def synthetic_names(seed: int, count: int, taken: Sequence[str]) -> list[str]:
    """``count`` distinct names, the same first ``k`` for any ``count >= k`` (so market_size only adds)."""
    seen = set(taken)
    out: list[str] = []
    start = 0
    while len(out) < count:
        batch = max(64, 2 * (count - len(out)))
        for name in _names(seed, start, batch):
            if name not in seen and len(out) < count:
                seen.add(name)
                out.append(name)
        start += batch
    return out


def make_splits(
    seed: int, tickers: Sequence[str], sessions: NDArray[np.datetime64], anchor_year: int
) -> list[Split]:
    """Deterministic splits: two default stocks split in the anchor year, synthetic ones now and then.

    Each ticker's splits depend only on (seed, ticker, year), so they survive changes to the universe, and
    never on the real date: a split's day is drawn from the seed and rolled to the next session, and
    ``sessions`` (which reach about a year past the real today) only decide how far the list goes. A
    longer calendar appends later splits and never changes or removes an earlier one.
    """
    days = sessions.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    out: list[Split] = []

    stocks = sorted(t for t, s in DEFAULT_SPECS.items() if not s.etf)
    rank = {t: int(rng.hash64(seed, S_PICK, rng.text_key(t))) for t in stocks}
    picked = set(sorted(stocks, key=rank.__getitem__)[:DEFAULT_SPLITS])
    anchor_days = days[years == anchor_year]
    for t in sorted(picked & set(tickers)):
        h = [int(x) for x in rng.hash64(seed, S_SPLIT, rng.text_key(t), anchor_year, np.arange(2))]
        k = 40 + h[0] % 160  # a session index in the anchor year: the same whatever the calendar's end
        if k < len(anchor_days):
            day = anchor_days[k].astype(dt.date)
            out.append(Split(t, day, 1.0, float(FORWARD_RATIOS[h[1] % len(FORWARD_RATIOS)])))

    synthetic = [t for t in tickers if t not in DEFAULT_SPECS]
    if synthetic:
        year_range = np.arange(int(years.min()), int(years.max()) + 1)
        keys = np.array([rng.text_key(t) for t in synthetic], dtype=np.uint64)[:, None]
        u = rng.uniform(seed, S_SPLIT, keys, year_range, 0)
        for i, j in zip(*np.nonzero(u < P_FORWARD + P_REVERSE), strict=True):
            t, year = synthetic[int(i)], int(year_range[j])
            # Draw among the year's weekdays (not its sessions, which the calendar knows only a year
            # ahead) and roll to the next session, so a split's date never depends on when this runs.
            h = [int(x) for x in rng.hash64(seed, S_SPLIT, int(keys[i, 0]), year, np.arange(1, 3))]
            weekdays = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-25"))
            weekdays = weekdays[np.is_busday(weekdays)]
            k = int(np.searchsorted(days, weekdays[h[0] % len(weekdays)]))
            if k >= len(days):
                continue
            day = days[k].astype(dt.date)
            if u[i, j] < P_FORWARD:
                out.append(Split(t, day, 1.0, float(FORWARD_RATIOS[h[1] % len(FORWARD_RATIOS)])))
            else:
                out.append(Split(t, day, float(REVERSE_RATIOS[h[1] % len(REVERSE_RATIOS)]), 1.0))
    out.sort(key=lambda s: (s.execution_date, s.ticker))
    return out


#: ``SMELT_SIM_UNIVERSE``: the 20 default underlyings' market, or the whole optionable US market.
UNIVERSES = ("default", "market")
#: The whole-market universe: tickers with daily bars, and how many of them list options.
MARKET_TICKERS = 10_000
MARKET_OPTIONABLE = 5_000


@dataclass(frozen=True)
class Breadth:
    """How much of a chain an underlying lists: which expiries, and how many strikes around the money.

    ``monthly_window`` is how far ahead monthlies are listed (days), ``width`` the strikes' reach in standard
    deviations of the spot to expiry, ``density`` a multiple of the default number of strikes per side and
    ``max_side`` its cap. :data:`FULL` is the chain every underlying of the default universe lists.
    """

    weeklies: bool
    monthly_window: int
    width: float
    density: float
    max_side: int
    min_side: int = 3
    dense: bool = True  # a monthly gets a second, denser batch of strikes when it comes within 7 weeks


FULL = Breadth(weeklies=True, monthly_window=364, width=1.5, density=1.0, max_side=12)
#: The whole-market tiers, by a name's dollar volume (the market's real spread: SPY lists thousands of
#: contracts, a large cap about a thousand, a thinly traded small cap tens).
INDEX = Breadth(weeklies=True, monthly_window=364, width=3.0, density=6.0, max_side=90)
LARGE = Breadth(weeklies=True, monthly_window=364, width=2.0, density=2.0, max_side=24)
MID = Breadth(weeklies=False, monthly_window=364, width=2.0, density=1.3, max_side=16)
SMALL = Breadth(
    weeklies=False, monthly_window=100, width=1.0, density=0.5, max_side=4, min_side=2, dense=False
)
#: Daily dollar volume above which a synthetic name is a large cap, resp. a mid cap.
LARGE_DOLLARS, MID_DOLLARS = 2.5e8, 3e7


def breadth(spec: TickerSpec, universe: str) -> Breadth:
    """A ticker's chain breadth: a function of its own parameters only, so of (seed, ticker)."""
    if universe != "market":
        return FULL
    if spec.etf:
        return INDEX
    dollars = spec.price * spec.volume
    if spec.ticker in DEFAULT_SPECS or dollars >= LARGE_DOLLARS:
        return LARGE
    return MID if dollars >= MID_DOLLARS else SMALL


def market_underlyings(seed: int) -> tuple[str, ...]:
    """The whole-market universe's optionable underlyings: the default ones, then the first synthetic
    names with an OCC root (no share classes, no preferreds), :data:`MARKET_OPTIONABLE` in all.

    The synthetic names are a prefix of the market's (see :func:`synthetic_names`), so every one of them is
    among the market's :data:`MARKET_TICKERS`.
    """
    named = list(DEFAULT_SPECS)
    want = MARKET_OPTIONABLE - len(named)
    names = synthetic_names(seed, MARKET_TICKERS - len(named), named)
    optionable = [t for t in names if t.isalpha() and t.isupper()][:want]
    return (*named, *optionable)
