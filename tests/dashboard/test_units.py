"""Pure pieces: input validation, URL state, and the strategy page's payoff arithmetic."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from dashboard import inputs, state
from dashboard.inputs import InputError
from dashboard.payoff import breakevens, leg_value, net_greeks, position_payoff
from tests.dashboard.support import INJECTIONS
from workflows import pricing


def test_validators_accept_canonical_values() -> None:
    assert inputs.ticker(" aapl ", {"AAPL"}) == "AAPL"
    assert inputs.ticker("BRK.B", {"BRK.B"}) == "BRK.B"
    assert inputs.day("2026-11-27") == dt.date(2026, 11, 27)
    assert inputs.day("2026-11-27T00:00:00") == dt.date(2026, 11, 27)
    assert inputs.choice("10", {"10": 0.1}, "strikes") == 0.1
    assert inputs.number("4.5", "rate", 0, 20) == 4.5
    assert inputs.number(3, "quantity", -5, 5, integer=True) == 3
    assert inputs.days_in("2026-11-27,2026-11-27", {dt.date(2026, 11, 27)}, "expiry", 2) == [
        dt.date(2026, 11, 27)
    ]
    assert inputs.legs("O:AAPL261218C00230000*2,O:AAPL261218C00230000*-1", "AAPL") == [
        ("O:AAPL261218C00230000", 1)
    ]
    assert inputs.legs([{"option": "O:AAPL261218P00220000", "quantity": "-3"}], "AAPL") == [
        ("O:AAPL261218P00220000", -3)
    ]
    assert inputs.legs("O:AAPL261218C00230000*1,O:AAPL261218C00230000*-1", "AAPL") == []


@pytest.mark.parametrize(
    "bad", [*INJECTIONS, None, 5, "", "aapl1234567890", "2026-13-01", "2026-11-31", "27/11/2026"]
)
def test_validators_refuse_with_a_message(bad: object) -> None:
    for check in (
        lambda: inputs.ticker(bad, {"AAPL"}),
        lambda: inputs.day(bad),
        lambda: inputs.choice(bad, ("a", "b"), "view"),
        lambda: inputs.number(bad, "rate", 100, 200),
        lambda: inputs.option_ticker(bad),
        lambda: inputs.legs(bad if bad else "x", "AAPL"),
    ):
        with pytest.raises(InputError):
            check()


def test_limits() -> None:
    with pytest.raises(InputError, match="at most 8 legs"):
        inputs.legs(",".join(f"O:AAPL261218C00{200 + i:03d}000*1" for i in range(9)), "AAPL")
    with pytest.raises(InputError, match="between -100 and 100"):
        inputs.legs("O:AAPL261218C00230000*1000", "AAPL")
    with pytest.raises(InputError, match="is not on SPY"):
        inputs.option_ticker("O:AAPL261218C00230000", "SPY")
    with pytest.raises(InputError, match="at most 2"):
        inputs.days_in(["2026-11-27", "2026-11-20", "2026-11-13"],
                       {dt.date(2026, 11, d) for d in (13, 20, 27)}, "expiry", 2)  # fmt: skip
    assert inputs.shown("x" * 100).endswith("...") and len(inputs.shown("x" * 100)) == inputs.MAX_SHOWN


def test_url_state_round_trip_and_bounds() -> None:
    search = state.encode({"ticker": "AAPL", "date": "2026-11-27", "expiries": ["2026-12-18", "2027-01-15"],
                           "legs": "O:AAPL261218C00230000*1", "view": None, "unknown": "x"})  # fmt: skip
    assert (
        search == "?ticker=AAPL&date=2026-11-27&expiries=2026-12-18,2027-01-15&legs=O:AAPL261218C00230000*1"
    )
    assert state.parse(search) == {"ticker": "AAPL", "date": "2026-11-27", "expiries": "2026-12-18,2027-01-15",
                                   "legs": "O:AAPL261218C00230000*1"}  # fmt: skip
    assert state.parse("?ticker=" + "A" * 5000)["ticker"] == "A" * state.MAX_VALUE
    assert state.parse("?evil=1&ticker=%27%3B") == {"ticker": "';"}
    assert state.shared("?ticker=SPY&date=2026-11-27&money=5") == "?ticker=SPY&date=2026-11-27"
    assert state.encode({}) == ""


def _leg(kind: str, strike: float, quantity: int, price: float, years: float = 0.1, iv: float = 0.25,
         exercise: str = "american", q: float | None = 0.0, rate: float = 0.04) -> dict:  # fmt: skip
    return {"contract_type": kind, "strike_price": strike, "quantity": quantity, "option_price": price,
            "years_to_expiry": years, "implied_volatility": iv, "shares_per_contract": 100.0,
            "underlying_price": 100.0, "delta": 0.5 if kind == "call" else -0.5, "gamma": 0.04, "theta": -0.05,
            "vega": 0.12, "exercise_model": exercise, "dividend_yield": q, "risk_free_rate": rate}  # fmt: skip


def test_legs_are_priced_by_the_pipelines_model_with_the_dividend_yield() -> None:
    spot = np.array([90.0, 100.0, 110.0])

    def value(kind: str, years: float, exercise: str = "european", q: float | None = 0.02) -> np.ndarray:
        leg = pd.DataFrame([_leg(kind, 100.0, 1, 0.0, years=years, iv=0.3, exercise=exercise, q=q)])
        return leg_value(spot, next(leg.itertuples(index=False)), years, 0.04)

    # European legs: put-call parity with the dividend yield, S e^(-qT) - K e^(-rT).
    parity = value("call", 0.5) - value("put", 0.5)
    assert np.allclose(parity, spot * math.exp(-0.02 * 0.5) - 100.0 * math.exp(-0.04 * 0.5))
    assert value("call", 0.5) == pytest.approx(pricing.price(False, True, spot, 100.0, 0.5, 0.04, 0.02, 0.3))
    # A dividend lowers a call; an unknown yield counts as none; an American put is worth at least the European.
    assert (value("call", 0.5) < value("call", 0.5, q=0.0)).all()
    assert value("call", 0.5, q=None) == pytest.approx(value("call", 0.5, q=0.0))
    assert (value("put", 0.5, "american") >= value("put", 0.5) - 1e-12).all()
    # At expiry (or without volatility) a leg is worth its intrinsic value.
    assert np.allclose(value("call", 0.0), [0.0, 0.0, 10.0])


def test_straddle_breakevens_are_strike_plus_and_minus_the_premium() -> None:
    legs = pd.DataFrame([_leg("call", 100.0, 1, 3.0), _leg("put", 100.0, 1, 2.5)])
    result = position_payoff(legs, rate=0.04)
    assert result.cost == pytest.approx(550.0)
    assert result.breakevens == pytest.approx([94.5, 105.5], abs=0.01)
    assert float(result.at_expiry.min()) == pytest.approx(-550.0, abs=40)  # at the strike, grid-limited
    greeks = net_greeks(legs)
    assert greeks == {"delta": 0.0, "gamma": 8.0, "theta": -10.0, "vega": 24.0}


def test_bull_call_spread_caps_profit_and_loss() -> None:
    legs = pd.DataFrame([_leg("call", 100.0, 1, 3.0), _leg("call", 105.0, -1, 1.2)])
    result = position_payoff(legs, rate=0.04)
    assert float(result.at_expiry.max()) == pytest.approx(500 - 180, abs=0.01)
    assert float(result.at_expiry.min()) == pytest.approx(-180, abs=0.01)
    assert result.breakevens == pytest.approx([101.8], abs=0.01)
    # Today the spread is worth less than at expiry far in the money: time value of the short leg.
    assert float(result.today[-1]) < float(result.at_expiry[-1])
    # Without an entered rate each leg is priced at its own published rate (the Treasury curve's).
    assert np.allclose(position_payoff(legs, rate=None).today, result.today)
    assert not np.allclose(position_payoff(legs, rate=0.10).today, result.today)


def test_breakevens_on_exact_zeros() -> None:
    prices = np.array([1.0, 2.0, 3.0, 4.0])
    assert breakevens(prices, np.array([-1.0, 0.0, 1.0, 2.0])) == [2.0]
    assert breakevens(prices, np.array([-1.0, 1.0, -1.0, 1.0])) == [1.5, 2.5, 3.5]
