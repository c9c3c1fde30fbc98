"""Option chains: listing, Greeks, skew and open interest behave like a market (American pricing: test_sim_pricing)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.simulator.support import DAY
from workflows import calendar
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator import Market, OptionMarket
from workflows.simulator.app import models
from workflows.simulator.options import Chain


@pytest.fixture(scope="module")
def options() -> OptionMarket:
    return models(7, DEFAULT_UNDERLYINGS, 3000).options


def _chain(options: OptionMarket, underlying: str, day: dt.date = DAY) -> Chain:
    chain = options.chain(underlying, day)
    assert chain is not None
    return chain


def test_chain_sizes_and_expiries(options: OptionMarket) -> None:
    for underlying in DEFAULT_UNDERLYINGS:
        chain = _chain(options, underlying)
        assert 400 <= len(chain.contracts) <= 800, underlying
    expirations = sorted({dt.date.fromordinal(int(e)) for e in _chain(options, "AAPL").contracts.expiration})
    assert expirations[0] == dt.date(2026, 11, 27)  # the Friday after Thanksgiving (an early close)
    assert dt.date(2026, 12, 24) in expirations  # Christmas Friday: the Thursday before
    assert dt.date(2026, 12, 18) in expirations and dt.date(2027, 1, 15) in expirations  # monthlies
    for e in expirations:  # Fridays, or the session before a Friday holiday (2027-06-18 is Juneteenth)
        friday = e + dt.timedelta(days=4 - e.weekday())
        assert e == friday or (not calendar.is_trading_day(friday) and e == friday - dt.timedelta(days=1))
    assert dt.date(2027, 6, 17) in expirations
    assert expirations[-1] <= DAY + dt.timedelta(days=366) and len(expirations) >= 15


def test_tickers_are_occ_and_stable_day_to_day(options: OptionMarket) -> None:
    today = _chain(options, "MSFT").contracts
    yesterday = _chain(options, "MSFT", dt.date(2026, 11, 23)).contracts
    common = set(today.tickers) & set(yesterday.tickers)
    assert len(common) > 0.9 * len(today)  # only newly listed strikes and expiries differ
    ticker = today.tickers[0]
    assert ticker.startswith("O:MSFT261127C") and len(ticker) == len("O:MSFT261127C00450000")
    strike = float(today.strike[0])
    assert int(ticker[-8:]) == round(strike * 1000)


def test_greeks_are_sane(options: OptionMarket) -> None:
    for underlying in ("AAPL", "TSLA", "SPY", "BAC"):
        q = _chain(options, underlying).quotes
        for values in (q.fmv, q.close, q.bid, q.ask):
            assert np.isfinite(values).all()
        priced = np.isfinite(q.iv)  # the rest: no time left, or a price no vol moves (served without Greeks)
        assert priced.mean() > 0.75
        for values in (q.delta, q.gamma, q.theta, q.vega):
            assert np.isfinite(values[priced]).all() and np.isnan(values[~priced]).all()
        assert (q.fmv >= 0).all() and (q.close > 0).all() and (q.bid >= 0).all() and (q.ask > q.bid).all()
        d, g, v = q.delta[priced], q.gamma[priced], q.vega[priced]
        assert (np.abs(d) <= 1).all() and (g >= 0).all() and (v >= 0).all()
        assert (q.iv[priced] > 0.02).all() and (q.iv[priced] < 4).all()
        assert (q.low <= np.minimum(q.open, q.close)).all() and (q.high >= np.maximum(q.open, q.close)).all()
        assert ((q.vwap >= q.low) & (q.vwap <= q.high)).all() and (q.volume >= 1).all()


def test_skew_puts_richer_and_delta_falls_with_strike(options: OptionMarket) -> None:
    chain = _chain(options, "SPY")
    c, q = chain.contracts, chain.quotes
    monthly = c.expiration == dt.date(2027, 1, 15).toordinal()
    calls = monthly & c.call
    strikes, delta, iv = c.strike[calls], q.delta[calls], q.iv[calls]
    assert (np.diff(delta[np.isfinite(delta)]) < 0).all()
    spot = float(q.spot[0])
    low = iv[np.argmin(np.abs(strikes - 0.9 * spot))]
    high = iv[np.argmin(np.abs(strikes - 1.1 * spot))]
    atm = iv[np.argmin(np.abs(strikes - spot))]
    assert low > atm and low > high  # the downside is bid, as in index options


def test_open_interest_falls_off_away_from_the_money(options: OptionMarket) -> None:
    chain = _chain(options, "AAPL")
    c, q = chain.contracts, chain.quotes
    spot = float(q.spot[0])
    for expiration in np.unique(c.expiration)[:8]:
        rows = np.nonzero((c.expiration == expiration) & c.call)[0]
        distance = np.abs(np.log(c.strike[rows] / spot))
        order = rows[np.argsort(distance)]
        near, far = q.open_interest[order[:3]].mean(), q.open_interest[order[-3:]].mean()
        assert near > 2 * far, dt.date.fromordinal(int(expiration))


def test_open_interest_moves_smoothly(options: OptionMarket) -> None:
    today, before = _chain(options, "NVDA"), _chain(options, "NVDA", dt.date(2026, 11, 23))
    index = {t: i for i, t in enumerate(before.contracts.tickers)}
    pairs = [(i, index[t]) for i, t in enumerate(today.contracts.tickers) if t in index]
    now = np.array([today.quotes.open_interest[i] for i, _ in pairs], dtype=float)
    then = np.array([before.quotes.open_interest[j] for _, j in pairs], dtype=float)
    big = then > 1000
    assert np.median(np.abs(now[big] / then[big] - 1)) < 0.25


def test_other_seed_other_market() -> None:
    a, b = Market(seed=1, market_size=30), Market(seed=2, market_size=30)
    sa, sb = a.series("AAPL"), b.series("AAPL")
    assert sa is not None and sb is not None
    assert not np.array_equal(sa.bars.close, sb.bars.close)
    assert a.tickers[20:] != b.tickers[20:]  # the synthetic names depend on the seed too
    ca, cb = OptionMarket(a).chain("AAPL", DAY), OptionMarket(b).chain("AAPL", DAY)
    assert ca is not None and cb is not None and not np.array_equal(ca.quotes.fmv, cb.quotes.fmv)
