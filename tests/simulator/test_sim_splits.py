"""Splits: listed by the reference endpoint, visible in raw prices, undone by ``adjusted=true``."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.simulator.support import DAY, Client
from workflows.calendar import NEW_YORK
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator.app import models
from workflows.simulator.universe import Split


@pytest.fixture(scope="module")
def split() -> Split:
    """The first default underlying with a split in the ~200 sessions before the test's "now"."""
    market = models(7, DEFAULT_UNDERLYINGS, 3000).market
    recent = [s for s in market.splits if s.ticker in DEFAULT_UNDERLYINGS and s.execution_date <= DAY]
    assert 1 <= len(recent) <= 2 and all(DAY - s.execution_date < dt.timedelta(days=300) for s in recent)
    return recent[0]


def _day(bar: dict[str, float]) -> dt.date:
    return dt.datetime.fromtimestamp(bar["t"] / 1000, NEW_YORK).date()


def test_split_is_listed(client: Client, split: Split) -> None:
    body = client.json(f"/v3/reference/splits?ticker={split.ticker}")
    rows = [r for r in body["results"] if r["execution_date"] == split.execution_date.isoformat()]
    assert rows and rows[0]["split_from"] == split.split_from and rows[0]["split_to"] == split.split_to
    assert 2 <= split.ratio <= 10
    everything = [r for page in client.pages("/v3/reference/splits?limit=1000") for r in page["results"]]
    assert len(everything) > 20 and any(r["split_from"] > r["split_to"] for r in everything)  # reverse too
    assert max(r["execution_date"] for r in everything) <= (DAY + dt.timedelta(days=30)).isoformat()
    dates = [r["execution_date"] for r in everything]
    assert dates == sorted(dates, reverse=True)
    window = client.json(
        "/v3/reference/splits?execution_date.gte=2026-01-01&execution_date.lte=2026-06-30&limit=1000"
    )
    assert all("2026-01-01" <= r["execution_date"] <= "2026-06-30" for r in window["results"])


def test_raw_prices_jump_and_adjusted_ones_do_not(client: Client, split: Split) -> None:
    start = split.execution_date - dt.timedelta(days=10)
    end = split.execution_date + dt.timedelta(days=10)
    url = f"/v2/aggs/ticker/{split.ticker}/range/1/day/{start}/{end}"
    raw = client.json(url + "?adjusted=false")["results"]
    adjusted = client.json(url + "?adjusted=true")["results"]
    assert [b["t"] for b in raw] == [b["t"] for b in adjusted]
    for r, a in zip(raw, adjusted, strict=True):
        if _day(r) < split.execution_date:
            assert a["c"] == pytest.approx(r["c"] / split.ratio, abs=1e-4)
            assert a["v"] == pytest.approx(r["v"] * split.ratio)
        else:
            assert a == r
    before = [b for b in raw if _day(b) < split.execution_date][-1]
    on = next(b for b in raw if _day(b) == split.execution_date)
    assert 0.6 * split.ratio < before["c"] / on["o"] < 1.6 * split.ratio  # the raw series jumps
    grouped_raw = client.json(f"/v2/aggs/grouped/locale/us/market/stocks/{_day(before)}?adjusted=false")
    grouped_adj = client.json(f"/v2/aggs/grouped/locale/us/market/stocks/{_day(before)}")
    pick = {b["T"]: b for b in grouped_raw["results"]}[split.ticker]
    assert pick["c"] == before["c"] and pick["v"] == before["v"]
    assert {b["T"]: b for b in grouped_adj["results"]}[split.ticker]["c"] == pytest.approx(
        before["c"] / split.ratio
    )


def test_before_the_split_is_known_adjusted_equals_raw(client: Client, split: Split) -> None:
    day = split.execution_date - dt.timedelta(days=7)
    early = Client(client.app, now=day.isoformat())
    url = f"/v2/aggs/ticker/{split.ticker}/range/1/day/{day - dt.timedelta(days=7)}/{day}"
    assert early.json(url + "?adjusted=true")["results"] == early.json(url + "?adjusted=false")["results"]


def test_option_strikes_follow_the_split(client: Client, split: Split) -> None:
    before = split.execution_date - dt.timedelta(days=1)
    pre = Client(client.app, now=before.isoformat())
    post = Client(client.app, now=split.execution_date.isoformat())
    url = f"/v3/snapshot/options/{split.ticker}?limit=250"
    pre_chain = [r for page in pre.pages(url) for r in page["results"]]
    post_chain = [r for page in post.pages(url) for r in page["results"]]
    for chain in (pre_chain, post_chain):
        spot = chain[0]["underlying_asset"]["price"]
        strikes = [r["details"]["strike_price"] for r in chain]
        assert min(strikes) < spot < max(strikes)  # strikes stay around the spot on both sides
    pre_spot, post_spot = (
        pre_chain[0]["underlying_asset"]["price"],
        post_chain[0]["underlying_asset"]["price"],
    )
    assert pre_spot / post_spot == pytest.approx(split.ratio, rel=0.3)
