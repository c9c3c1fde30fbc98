"""The simulated option market a trader would believe: American prices, Greeks and IV from that model, priced
with the rate and dividends the API serves, open interest that follows splits, nothing left on expiry day,
and a chain snapshot that, like the vendor's, knows only the latest session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.simulator.support import DAY, Client
from workflows.pricing import black_scholes, carry, solve, valuation
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator import create_app
from workflows.simulator.app import models
from workflows.simulator.options import OptionMarket


@pytest.fixture(scope="module")
def options() -> OptionMarket:
    return models(7, DEFAULT_UNDERLYINGS, 3000).options


def _intrinsic(call: np.ndarray, spot: np.ndarray, strike: np.ndarray) -> np.ndarray:
    return np.maximum(np.where(call, spot - strike, strike - spot), 0.0)


@pytest.mark.parametrize("underlying", ["AAPL", "JPM", "XOM", "SPY", "TSLA"])
def test_no_price_below_intrinsic_and_no_early_exercise_arbitrage(
    options: OptionMarket, underlying: str
) -> None:
    for day in (DAY, dt.date(2026, 11, 27)):
        chain = options.chain(underlying, day)
        assert chain is not None
        c, q = chain.contracts, chain.quotes
        intrinsic = _intrinsic(c.call, q.spot, c.strike)
        mid = (q.bid + q.ask) / 2
        assert (q.fmv >= intrinsic - 5e-5).all()  # fmv is rounded to 4 decimals
        assert (mid >= intrinsic - 1e-9).all() and (q.ask >= intrinsic - 1e-9).all()
        assert (q.close >= intrinsic - 1e-9).all()  # nobody trades below exercise value
        priced = np.isfinite(q.theta)
        assert (q.theta[priced] <= 1e-9).all()  # more time is never worth less for an American option
        live = q.years > 0
        rate = options.carry.rates(np.full(live.sum(), (day - dt.date(1970, 1, 1)).days), q.years[live])
        qy = options.carry.dividend_yield(underlying, np.full(live.sum(), options.market.session_index(day)))
        european = black_scholes.price(c.call[live], q.spot[live], c.strike[live], q.years[live], rate, qy,
                                       np.where(np.isfinite(q.iv[live]), q.iv[live], 0.3))  # fmt: skip
        assert (q.fmv[live][priced[live]] >= european[priced[live]] - 5e-5).all()


def test_expiry_day_is_worth_intrinsic_value_without_greeks(options: OptionMarket) -> None:
    day = dt.date(2026, 11, 27)  # a Friday: the weekly expires at its close
    chain = options.chain("AAPL", day)
    assert chain is not None
    c, q = chain.contracts, chain.quotes
    expiring = c.expiration == day.toordinal()
    assert expiring.sum() > 20
    assert (q.years[expiring] == 0).all()  # the marts' convention: zero years to expiry on the expiry day
    assert np.allclose(q.fmv[expiring], np.round(_intrinsic(c.call, q.spot, c.strike)[expiring], 4))
    assert np.isnan(q.iv[expiring]).all() and np.isnan(q.delta[expiring]).all()


def test_served_greeks_are_recomputed_from_served_rates_and_dividends(client: Client) -> None:
    """Only the API's own data: the chain, the day's curve, the latest declared dividend."""
    chain = client.json("/v3/snapshot/options/JPM?limit=250")["results"]
    [curve] = client.json(f"/fed/v1/treasury-yields?date={DAY}")["results"]
    dividends = client.json("/v3/reference/dividends?ticker=JPM&limit=10")["results"]
    latest = max(dividends, key=lambda d: d["declaration_date"])
    assert latest["declaration_date"] <= DAY.isoformat() and latest["frequency"] == 4
    rows = [r for r in chain if "greeks" in r]
    assert len(rows) > 100
    spot = np.array([r["underlying_asset"]["price"] for r in rows])
    strike = np.array([r["details"]["strike_price"] for r in rows], dtype=float)
    call = np.array([r["details"]["contract_type"] == "call" for r in rows])
    expiry = [dt.date.fromisoformat(r["details"]["expiration_date"]) for r in rows]
    years = np.array([(e - DAY).days / 365.0 for e in expiry])
    rate = carry.rate_for(years, {k: v for k, v in curve.items() if k != "date"})
    q = carry.dividend_yield(latest["cash_amount"] * latest["frequency"], spot)
    iv = np.array([r["implied_volatility"] for r in rows])
    ours = valuation(True, call, spot, strike, years, rate, q, iv)
    assert np.allclose(ours.price, [r["fmv"] for r in rows], atol=5e-5)
    for name in ("delta", "gamma", "theta", "vega"):
        assert np.allclose(getattr(ours, name), [r["greeks"][name] for r in rows], rtol=1e-9, atol=1e-12), (
            name
        )
    # and the IV solved from the served fair value is the served IV
    solved = solve(True, call, spot, strike, years, rate, q, [r["fmv"] for r in rows])
    good = solved.solved & (ours.vega > 0.01)
    assert good.sum() > 80
    assert np.max(np.abs(solved.iv[good] - iv[good])) < 2e-3  # fmv is rounded to 4 decimals


def test_open_interest_follows_a_split_so_gamma_exposure_stays_continuous(options: OptionMarket) -> None:
    market = options.market
    split = next(s for s in market.splits if s.ticker in DEFAULT_UNDERLYINGS and s.execution_date <= DAY)
    i = market.session_index(split.execution_date)
    assert i is not None
    before, after = (dt.date.fromisoformat(str(market.sessions[j])) for j in (i - 1, i))

    def exposure(day: dt.date) -> tuple[float, float]:
        chain = options.chain(split.ticker, day)
        assert chain is not None
        q = chain.quotes
        gamma = np.nan_to_num(q.gamma)
        return float(q.open_interest.sum()), float((gamma * q.open_interest * 100 * q.spot**2 * 0.01).sum())

    (oi_before, gex_before), (oi_after, gex_after) = exposure(before), exposure(after)
    assert oi_after / oi_before == pytest.approx(split.ratio, rel=0.25)
    assert gex_after / gex_before == pytest.approx(1.0, abs=0.35)  # a day's move, not a factor of the ratio


def test_the_snapshot_knows_only_the_latest_session_unless_asked_to_replay() -> None:
    vendor_like = Client(create_app(seed=7, underlyings=["AAPL"], market_size=50, now="2026-11-27"))
    replay = Client(create_app(seed=7, underlyings=["AAPL"], market_size=50, snapshot_history=True))
    for day in ("2026-11-20", "2026-11-24", "2026-11-27"):
        served = vendor_like.json("/v3/snapshot/options/AAPL?limit=5", {"X-Sim-Now": day})["results"]
        replayed = replay.json("/v3/snapshot/options/AAPL?limit=5", {"X-Sim-Now": day})["results"]
        days = {dt.datetime.fromtimestamp(r["day"]["last_updated"] / 1e9, dt.UTC).date() for r in served}
        assert days == {dt.date(2026, 11, 27)}  # the server's latest session, whatever the request claims
        replayed_days = {
            dt.datetime.fromtimestamp(r["day"]["last_updated"] / 1e9, dt.UTC).date() for r in replayed
        }
        assert replayed_days == {dt.date.fromisoformat(day)}


def test_dividends_are_listed_once_declared_and_curves_up_to_the_day(client: Client) -> None:
    rows = client.json("/v3/reference/dividends?ticker=XOM&limit=1000")["results"]
    assert rows and all(r["declaration_date"] <= DAY.isoformat() for r in rows)
    assert {r["dividend_type"] for r in rows} == {"CD"} and all(r["cash_amount"] > 0 for r in rows)
    assert not client.json("/v3/reference/dividends?ticker=AMZN")["results"]  # pays none
    curves = client.json("/fed/v1/treasury-yields?date.gte=2026-11-01&limit=100")["results"]
    assert max(r["date"] for r in curves) == DAY.isoformat() and len(curves[0]) == 12
    assert all(0 < v < 15 for r in curves for k, v in r.items() if k != "date")
