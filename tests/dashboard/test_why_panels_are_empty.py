"""Panels without data for a day say why, in their one-line note: the positioning page's open-interest history
(drawn with values on a demo-shaped build, every day through the chain snapshot: decision 107; explained on a
build whose past days came through the backfill path), and the windows a short history cannot fill."""

from __future__ import annotations

import math
from typing import Any

from dashboard.pages import market, positioning, volatility
from dashboard.queries import Queries
from tests.dashboard.support import END, REPLAYED, note_text
from workflows import calendar

D = END.isoformat()
BACKFILLED = "2026-11-20"  # a past day of the backfill-shaped build (tests/dashboard/conftest.py: built_home)


def _trace(figure: Any, name: str) -> list[float | None]:
    (trace,) = [t for t in figure["data"] if t.get("name") == name]
    return list(trace["y"])


def _values(ys: list[float | None]) -> list[float]:
    return [y for y in ys if y is not None and not math.isnan(y)]


def test_the_demo_shaped_history_has_open_interest_on_every_day(replayed: Queries) -> None:
    outputs = positioning.history_charts(replayed, "AAPL", D, "1m", "light")
    pcr, pcr_note, pain, pain_note = outputs[0], note_text(outputs, 1), outputs[4], note_text(outputs, 5)
    by_oi = _values(_trace(pcr, "by open interest"))
    assert len(by_oi) == len(REPLAYED) and all(v > 0 for v in by_oi)
    nearest = _values(_trace(pain, "max pain, nearest expiry"))
    assert len(nearest) == len(REPLAYED) and all(v > 0 for v in nearest)
    assert "n/a" not in pcr_note and "backfill" not in pcr_note and "backfill" not in pain_note
    assert pain_note.startswith("nearest expiry ")


def test_the_demo_shaped_strike_chart_shows_the_change_since_the_previous_day(replayed: Queries) -> None:
    outputs = positioning.strike_charts(replayed, "AAPL", D, "all", "oi", "20", "light")
    assert note_text(outputs, 1) == f"calls up, puts down; lower panel: change since {REPLAYED[-2]}"
    change = _values(_trace(outputs[0], "call OI change")) + _values(_trace(outputs[0], "put OI change"))
    assert change and any(v != 0 for v in change)


def test_a_backfilled_day_says_why_it_has_no_open_interest(q: Queries) -> None:
    """The backfill-shaped build: END through the snapshot, every earlier day through the backfill path."""
    outputs = positioning.history_charts(q, "AAPL", BACKFILLED, "1m", "light")
    why = positioning.no_open_interest(BACKFILLED)
    assert note_text(outputs, 1).endswith(f"by open interest n/a on {BACKFILLED}; {why}")
    assert note_text(outputs, 5) == f"no max pain on {BACKFILLED}; {why}"
    strikes = positioning.strike_charts(q, "AAPL", BACKFILLED, "all", "oi", "20", "light")
    assert note_text(strikes, 1).startswith(why)


def test_the_latest_day_after_a_backfill_says_which_days_lack_open_interest(q: Queries) -> None:
    outputs = positioning.history_charts(q, "AAPL", D, "1m", "light")
    for index in (1, 5):
        assert "open interest on 1 of " in note_text(outputs, index), note_text(outputs, index)
        assert "the others came through the backfill path" in note_text(outputs, index)
    strikes = positioning.strike_charts(q, "AAPL", D, "all", "oi", "20", "light")
    previous = q.option_days("AAPL")[1]
    assert note_text(strikes, 1) == (
        f"calls up, puts down; lower panel empty, {positioning.no_open_interest(previous)}"
    )


def test_moving_averages_on_a_short_history_say_how_many_closes_they_need(q: Queries) -> None:
    outputs = market.market_chart(q, "AAPL", D, "3m", "adjusted", ["sma20", "sma50", "sma200"], "light")
    held = sum(1 for d in q.stock_days("AAPL") if d <= END)
    start = calendar.previous_trading_days(END, 200)[0]
    assert note_text(outputs, 1).endswith(
        f"; SMA 50 and SMA 200 not drawn: they need 50 and 200 daily closes, the marts hold {held} for AAPL "
        f"up to {D} (earlier days: smelt run --start {start})"
    )
    assert [t["name"] for t in outputs[0]["data"] if t.get("name", "").startswith("SMA")] == ["SMA 20"]
    assert "not drawn" not in note_text(
        market.market_chart(q, "AAPL", D, "3m", "adjusted", ["sma20"], "light"), 1
    )


def test_realized_volatility_on_its_first_days_says_why_it_is_missing(q: Queries) -> None:
    first = q.option_days("AAPL")[-1]
    outputs = volatility.rv_chart(q, "AAPL", first.isoformat(), "1y", "light")
    assert "; realized volatility (20d) not drawn: it needs 21 daily closes, the marts hold 1 for AAPL" in (
        note_text(outputs, 1)
    )
    assert "realized volatility" not in note_text(volatility.rv_chart(q, "AAPL", D, "1y", "light"), 1)
