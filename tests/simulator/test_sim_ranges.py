"""Option range requests are priced once per (underlying, expiry, window) and served from that work.

The answers must be the bytes the simulator served when it priced one contract per request: the digests in
``golden_ranges.json`` were taken from main before the range cache (see ``range_sample``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.simulator.range_sample import digest, sample
from tests.simulator.support import DAY, Client
from workflows.simulator import create_app, render
from workflows.simulator.market import LRU, Market
from workflows.simulator.options import OptionMarket

GOLDEN = json.loads((Path(__file__).parent / "golden_ranges.json").read_text())
#: "underlying|day" -> [items, sha256] of the whole chain snapshot, from main before the batched pricing.
GOLDEN_CHAINS = json.loads((Path(__file__).parent / "golden_chains.json").read_text())


def test_range_answers_are_the_bytes_served_before_the_cache() -> None:
    app = create_app(seed=7)
    options = app.state.options
    requests = sample(options)
    assert len(requests) == len(GOLDEN)
    served = []
    for ticker, start, end in requests:  # what the handler renders (the first one through HTTP below)
        found = options.history(ticker, start, min(end, DAY))
        items = [] if found is None else render.option_bars(options.market.sessions[found[0]], found[1])
        served.append(
            {"ticker": ticker, "start": start.isoformat(), "end": end.isoformat(), "bars": len(items),
             "sha256": digest(items)}
        )  # fmt: skip
    wrong = [(s["ticker"], s["start"], s["end"]) for s, g in zip(served, GOLDEN, strict=True) if s != g]
    assert not wrong, f"{len(wrong)} of {len(served)} range answers changed, e.g. {wrong[:3]}"
    ticker, start, end = requests[0]
    body = Client(app).json(f"/v2/aggs/ticker/{ticker}/range/1/day/{start}/{end}")
    assert digest(body["results"]) == GOLDEN[0]["sha256"]


def test_chain_snapshots_are_the_bytes_served_before() -> None:
    client = Client(create_app(seed=7, snapshot_history=True))
    for key, (count, sha256) in GOLDEN_CHAINS.items():
        underlying, day = key.split("|")
        url = f"/v3/snapshot/options/{underlying}?limit=250"
        items = [r for page in client.pages(url, {"X-Sim-Now": day}) for r in page["results"]]
        assert [len(items), digest(items)] == [count, sha256], key


def test_one_expiry_is_priced_once_per_window() -> None:
    options = OptionMarket(Market(seed=7, market_size=25))
    day = DAY
    tickers = options.contracts("AAPL", day).tickers
    expiration = tickers[0][6:12]
    same = [t for t in tickers if t[6:12] == expiration]
    start = day - dt.timedelta(days=30)
    options.history(same[0], start, day)
    assert len(options._ranges._data) == 1
    weight = options._ranges.weight
    for ticker in same[1:]:
        found = options.history(ticker, start, day)
        assert found is not None and len(found[0]) > 0
    assert len(options._ranges._data) == 1 and options._ranges.weight == weight


def test_the_range_cache_stays_within_its_cells() -> None:
    options = OptionMarket(Market(seed=7, market_size=25))
    options._ranges = LRU(5_000, lambda block: block.weight)
    day = dt.date(2026, 11, 24)
    for ticker in options.contracts("SPY", day).tickers[::25]:
        options.history(ticker, day - dt.timedelta(days=60), day)
    assert 0 < options._ranges.weight <= 5_000 or len(options._ranges._data) == 1


@pytest.mark.parametrize(
    "ticker", ["O:AAPL261218C00230000", "O:ZZZZ261218C00230000", "O:AAPL991318C00230000"]
)
def test_unknown_contracts_have_no_bars(ticker: str) -> None:
    options = OptionMarket(Market(seed=7, market_size=25))
    found = options.history(ticker, dt.date(2026, 12, 19), dt.date(2026, 12, 31))
    assert found is None
