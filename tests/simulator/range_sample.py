"""A fixed sample of option range requests, and a digest of their answers, for the range-cache tests.

The sample mixes what can go wrong when one underlying's range is priced at once: contracts that cross a
split (V on 2026-04-23, TSLA on 2026-07-17: one OCC ticker names two contracts across it), contracts that
expire inside the window, weeklies and monthlies, calls and puts, ETFs, a synthetic ticker, one-day and
year-long windows. ``tests/simulator/golden_ranges.json`` holds the digests the simulator served before
the range cache (taken from main at cb26cea): the cache must serve the same bytes. ``golden_chains.json``
holds whole chain snapshots (SPY, V, TSLA, AAPL on split days and the default now) from the same commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import orjson

from workflows.simulator.options import OptionMarket

#: (underlying, as_of of the listing the contracts come from, window start, window end, every n-th contract)
WINDOWS: tuple[tuple[str, dt.date, dt.date, dt.date, int], ...] = (
    ("V", dt.date(2026, 4, 22), dt.date(2026, 3, 2), dt.date(2026, 5, 29), 9),  # pre-split tickers
    ("V", dt.date(2026, 4, 24), dt.date(2026, 3, 2), dt.date(2026, 5, 29), 9),  # post-split tickers
    ("TSLA", dt.date(2026, 7, 16), dt.date(2026, 7, 1), dt.date(2026, 8, 21), 11),
    ("SPY", dt.date(2026, 10, 14), dt.date(2026, 10, 14), dt.date(2026, 11, 24), 17),  # weeklies expire
    ("AAPL", dt.date(2026, 11, 24), dt.date(2026, 11, 24), dt.date(2026, 11, 24), 13),  # one day
    ("IWM", dt.date(2026, 1, 5), dt.date(2025, 12, 1), dt.date(2026, 11, 24), 23),  # a long window
)


def sample(options: OptionMarket) -> list[tuple[str, dt.date, dt.date]]:
    """(ticker, start, end) of every request of the sample, plus the first synthetic optionable ticker's."""
    out = []
    for underlying, as_of, start, end, every in WINDOWS:
        tickers = options.contracts(underlying, as_of).tickers
        out += [(t, start, end) for t in tickers[::every]]
    synthetic = next(t for t in options.market.tickers[20:] if t in options.roots.values())
    tickers = options.contracts(synthetic, dt.date(2026, 11, 2)).tickers
    out += [(t, dt.date(2026, 10, 1), dt.date(2026, 11, 24)) for t in tickers[::5]]
    return out


def digest(results: object) -> str:
    """The answer's bytes, as the API serialises them."""
    return hashlib.sha256(orjson.dumps(results)).hexdigest()
