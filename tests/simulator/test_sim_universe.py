"""The whole-market universe (``SMELT_SIM_UNIVERSE=market``): its size, its spread of chain sizes, its
determinism, and ``SMELT_UNDERLYINGS=*``."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from workflows.dbt_runner import option_roots
from workflows.settings import DEFAULT_UNDERLYINGS, SettingsError, load_settings
from workflows.simulator.market import Market
from workflows.simulator.options import Chain, OptionMarket
from workflows.simulator.universe import (
    INDEX,
    MARKET_OPTIONABLE,
    MARKET_TICKERS,
    SMALL,
    market_underlyings,
)

DAY = dt.date(2026, 11, 24)
#: Every n-th optionable underlying: a systematic sample whose counts, times n, estimate the whole market's.
EVERY = 40


@pytest.fixture(scope="module")
def options() -> OptionMarket:
    return OptionMarket(Market(seed=7, universe="market"))


@pytest.fixture(scope="module")
def sampled(options: OptionMarket) -> dict[str, int]:
    tickers = market_underlyings(7)[::EVERY]
    options.market.prefetch(tickers)
    return {u: len(options.contracts(u, DAY)) for u in tickers}


def test_the_market_has_5000_optionable_underlyings_among_10000_tickers(options: OptionMarket) -> None:
    underlyings = market_underlyings(7)
    assert len(underlyings) == len(set(underlyings)) == MARKET_OPTIONABLE
    assert underlyings[:20] == DEFAULT_UNDERLYINGS
    assert len(options.market.tickers) == MARKET_TICKERS
    assert set(underlyings) <= set(options.market.tickers)
    assert len(options.roots) == MARKET_OPTIONABLE  # every one has an OCC root, and only those list options
    not_optionable = next(t for t in options.market.tickers if t not in set(underlyings))
    assert len(options.contracts(not_optionable, DAY)) == 0


def test_a_day_lists_1_2_to_1_6_million_contracts(sampled: dict[str, int]) -> None:
    estimate = sum(sampled.values()) * EVERY
    assert 1_200_000 <= estimate <= 1_600_000, estimate


def test_chain_sizes_spread_like_the_real_market(options: OptionMarket, sampled: dict[str, int]) -> None:
    small = [n for u, n in sampled.items() if options.breadth(u) == SMALL]
    assert len(small) > len(sampled) / 3  # most optionable names are thinly traded
    assert 10 <= np.median(small) < 100 and max(small) < 100  # tens of contracts
    for etf in ("SPY", "QQQ", "IWM"):
        assert options.breadth(etf) == INDEX
        assert 2_000 <= len(options.contracts(etf, DAY)) <= 8_000  # thousands
    for large in ("AAPL", "NVDA", "JPM"):
        assert 500 <= len(options.contracts(large, DAY)) <= 2_000  # about a thousand


def test_a_ticker_lists_the_same_chain_whatever_else_is_in_the_market(options: OptionMarket) -> None:
    small_cap = next(u for u in market_underlyings(7)[20:] if options.breadth(u) == SMALL)
    other = OptionMarket(
        Market(seed=7, underlyings=(small_cap, "SPY"), market_size=12_000, universe="market")
    )
    for u in (small_cap, "SPY"):
        a, b = options.chain(u, DAY), other.chain(u, DAY)
        assert a is not None and b is not None
        assert a.contracts.tickers == b.contracts.tickers
        assert np.array_equal(a.quotes.close, b.quotes.close) and np.array_equal(
            a.quotes.iv, b.quotes.iv, equal_nan=True
        )
    assert market_underlyings(8) != market_underlyings(7)


def test_chains_priced_together_are_the_chains_priced_alone(options: OptionMarket) -> None:
    tickers = ["SPY", "V", *market_underlyings(7)[300:310]]
    for together in options.chains(tickers, DAY):
        _assert_priced_alone(together)


def test_a_chain_missed_in_the_market_prices_its_batch_of_neighbours() -> None:
    options = OptionMarket(Market(seed=7, universe="market"))
    neighbours = market_underlyings(7)[64:96]  # one aligned batch of the universe's order
    served = options.chain(neighbours[5], DAY)
    assert served is not None and served.underlying == neighbours[5]
    cached = [u for u in neighbours if (u, DAY) in options._chains]
    assert cached == list(neighbours)  # the rest of the batch is priced with it, ready for the next requests
    for u in neighbours[::8]:
        chain = options.chain(u, DAY)
        assert chain is not None
        _assert_priced_alone(chain)


def _assert_priced_alone(chain: Chain) -> None:
    """The same bits as the chain priced on its own, in a market that priced nothing else."""
    alone = OptionMarket(Market(seed=7, universe="market"))
    i = alone.market.session_index(DAY)
    assert i is not None
    [single] = alone._make_chains([chain.underlying], DAY, i)
    assert chain.contracts.tickers == single.contracts.tickers
    for field in dataclasses.fields(chain.quotes):
        a, b = getattr(chain.quotes, field.name), getattr(single.quotes, field.name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (chain.underlying, field.name)
    assert np.array_equal(chain.previous_close, single.previous_close)


def test_a_batch_of_series_is_the_same_as_one_at_a_time() -> None:
    tickers = [*market_underlyings(7)[100:112], "V"]  # V splits in 2026
    batched, single = Market(seed=7, universe="market"), Market(seed=7, universe="market")
    batched.prefetch(tickers)
    for t in tickers:
        a, b = batched.series(t), single._make_series(t)
        assert a is not None
        for field in ("open", "high", "low", "close", "vwap", "volume"):
            assert np.array_equal(getattr(a.bars, field), getattr(b.bars, field)), (t, field)
        assert np.array_equal(a.level, b.level) and np.array_equal(a.factor, b.factor)


def test_the_default_universe_keeps_every_ticker_optionable() -> None:
    market = Market(seed=7, market_size=40)
    assert market.optionable == market.tickers
    with pytest.raises(ValueError, match="unknown universe"):
        Market(seed=7, universe="world")


def test_every_underlying_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMELT_UNDERLYINGS", "*")
    assert load_settings().underlyings == DEFAULT_UNDERLYINGS
    monkeypatch.setenv("SMELT_SIM_UNIVERSE", "market")
    settings = load_settings()
    assert settings.simulator.universe == "market"
    assert settings.underlyings == market_underlyings(7)
    assert option_roots(settings) == "*"  # the flat files' universe filter: none (decision 110)
    monkeypatch.setenv("SMELT_UNDERLYINGS", "ALL")  # Allstate, not "every underlying"
    assert load_settings().underlyings == ("ALL",)
    monkeypatch.setenv("SMELT_UNDERLYINGS", "SPY,BRK.B,AAPL")
    assert option_roots(load_settings()) == "AAPL,BRKB,SPY"
    monkeypatch.setenv("SMELT_UNDERLYINGS", "*")
    monkeypatch.setenv("SMELT_SOURCE", "polygon")
    monkeypatch.setenv("POLYGON_API_KEY", "not-a-real-key")
    with pytest.raises(SettingsError, match=r"SMELT_UNDERLYINGS=\* .* needs SMELT_SOURCE=simulator"):
        load_settings()
    monkeypatch.setenv("SMELT_SIM_UNIVERSE", "world")
    with pytest.raises(SettingsError, match="SMELT_SIM_UNIVERSE"):
        load_settings()
