"""Same seed, same market: a past day looks the same whatever the real date (and so the calendar's end) is.

The NYSE calendar reaches about a year past the real today, so as real time passes the market learns about
later sessions and later splits. None of that may change a day already served: raw prices, splits and option
chains of a past day are functions of the seed and that day alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from tests.simulator.support import DAY
from workflows import calendar
from workflows.simulator import market as market_module
from workflows.simulator.market import EPOCH, Bars, Market, calendar_end
from workflows.simulator.options import OptionMarket, option_root
from workflows.simulator.universe import Split, make_splits

#: The calendar end of a run about six months before the real one (the reviewer's example).
SHORT_END = dt.date(2027, 5, 28)
PAST_DAYS = (dt.date(2026, 4, 22), dt.date(2026, 7, 17), dt.date(2026, 11, 6), DAY)


def _market(monkeypatch: pytest.MonkeyPatch, end: dt.date) -> Market:
    """A fresh market as a run would build it on a real day whose calendar reaches ``end``."""
    with monkeypatch.context() as patch:
        patch.setattr(market_module, "calendar_end", lambda: end)
        built = Market(7)
    assert built.last_day == end
    return built


def _equal_bars(a: Bars, b: Bars) -> None:
    assert a.tickers == b.tickers
    for f in dataclasses.fields(Bars):
        if f.name != "tickers":
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


@pytest.fixture(scope="module")
def pair() -> tuple[Market, Market]:
    patch = pytest.MonkeyPatch()
    try:
        short, long = _market(patch, SHORT_END), _market(patch, max(calendar_end(), dt.date(2027, 11, 24)))
    finally:
        patch.undo()
    return short, long


@pytest.fixture(scope="module")
def movers(pair: tuple[Market, Market]) -> list[str]:
    """Tickers whose next split is one only the longer calendar knows (their raw prices used to change)."""
    short, long = pair
    late = sorted({s.ticker for s in long.splits if s.execution_date > short.last_day})
    assert "SWXF" in late and len(late) >= 5  # else the test would prove nothing
    return late


def test_splits_only_grow_with_the_calendar(pair: tuple[Market, Market]) -> None:
    short, long = pair
    assert short.splits == tuple(s for s in long.splits if s.execution_date <= short.last_day)
    assert len(long.splits) > len(short.splits)


def test_raw_and_adjusted_bars_of_a_past_day_ignore_the_calendar_end(
    pair: tuple[Market, Market], movers: list[str]
) -> None:
    short, long = pair
    for day in PAST_DAYS:
        a, b = short.cross_section(day), long.cross_section(day)
        assert a is not None and b is not None
        _equal_bars(a, b)
        for adjusted in (False, True):
            ga, gb = (m.grouped(day, adjusted=adjusted, cutoff=DAY) for m in pair)
            assert ga is not None and gb is not None
            _equal_bars(ga, gb)
    swxf = [m.bars("SWXF", DAY, DAY, adjusted=False, cutoff=DAY) for m in pair]
    assert swxf[0] is not None and swxf[1] is not None
    assert swxf[0].close[0] == swxf[1].close[0] == 14.03  # was 14.03 vs 0.7013
    for ticker in [*movers, "V", "TSLA", "AAPL"]:
        for adjusted in (False, True):
            a2, b2 = (m.bars(ticker, EPOCH, DAY, adjusted=adjusted, cutoff=DAY) for m in pair)
            assert a2 is not None and b2 is not None
            _equal_bars(a2, b2)


def test_option_chains_of_a_past_day_ignore_the_calendar_end(
    pair: tuple[Market, Market], movers: list[str]
) -> None:
    short, long = (OptionMarket(m) for m in pair)
    names = ["AAPL", "TSLA", *[t for t in movers if option_root(t)][:6]]
    for ticker in names:
        for day in (dt.date(2026, 7, 17), DAY):
            a, b = short.chain(ticker, day), long.chain(ticker, day)
            assert a is not None and b is not None and len(a.contracts) > 0
            assert a.contracts.tickers == b.contracts.tickers
            np.testing.assert_array_equal(a.contracts.strike, b.contracts.strike)
            np.testing.assert_array_equal(a.previous_close, b.previous_close)
            for f in dataclasses.fields(a.quotes):
                np.testing.assert_array_equal(getattr(a.quotes, f.name), getattr(b.quotes, f.name))


def test_a_later_split_never_changes_earlier_raw_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a split after ``DAY`` leaves every raw bar up to ``DAY`` alone; only adjusted views move."""
    late = Split("AAPL", dt.date(2027, 3, 1), 1.0, 3.0)
    original: Callable[..., list[Split]] = make_splits
    end = dt.date(2027, 5, 28)
    base = _market(monkeypatch, end)
    monkeypatch.setattr(
        market_module,
        "make_splits",
        lambda *a: sorted([*original(*a), late], key=lambda s: (s.execution_date, s.ticker)),
    )
    more = _market(monkeypatch, end)
    assert late in more.splits and late not in base.splits
    before = [m.bars("AAPL", EPOCH, DAY, adjusted=False, cutoff=DAY) for m in (base, more)]
    assert before[0] is not None and before[1] is not None
    _equal_bars(before[0], before[1])
    after = dt.date(2027, 3, 5)
    raw = more.bars("AAPL", dt.date(2027, 2, 22), after, adjusted=False, cutoff=after)
    adj = more.bars("AAPL", dt.date(2027, 2, 22), after, adjusted=True, cutoff=after)
    plain = base.bars("AAPL", dt.date(2027, 2, 22), after, adjusted=False, cutoff=after)
    assert raw is not None and adj is not None and plain is not None
    split_day = np.datetime64(late.execution_date, "D")
    old, new = raw.days < split_day, raw.days >= split_day
    np.testing.assert_array_equal(raw.close[old], plain.close[old])  # raw: unchanged up to the split
    np.testing.assert_allclose(raw.close[new], plain.close[new] / 3.0, atol=0.006)  # then a 3:1 jump
    np.testing.assert_allclose(adj.close[old], raw.close[old] / 3.0, atol=1e-4)  # adjusted as of the cutoff
    np.testing.assert_array_equal(adj.close[new], raw.close[new])


def test_make_splits_is_a_prefix_whatever_the_calendar_reaches() -> None:
    """Cutting the calendar short drops the later splits only (the default ones too, V and TSLA in 2026)."""
    tickers = Market(7).tickers
    full = make_splits(7, tickers, np.asarray(calendar.trading_days(EPOCH, SHORT_END), "datetime64[D]"), 2026)
    for end in (dt.date(2026, 5, 1), dt.date(2026, 9, 30), dt.date(2026, 12, 31)):
        sessions = np.asarray(calendar.trading_days(EPOCH, end), dtype="datetime64[D]")
        cut = make_splits(7, tickers, sessions, 2026)
        assert cut == [s for s in full if s.execution_date <= end], end
    defaults = {s.ticker: s.execution_date for s in full if s.ticker in ("V", "TSLA")}
    assert defaults == {"V": dt.date(2026, 4, 23), "TSLA": dt.date(2026, 7, 17)}
