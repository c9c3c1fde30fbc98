"""workflows.pricing against independent libraries on a grid of spots, strikes, expiries, rates, dividend
yields and vols (3,024 options, in and out of the money, 1 day to 2 years):

* American, same model: QuantLib's ``BjerksundStenslandApproximationEngine`` (Bjerksund-Stensland 1993 with
  analytic Greeks). Prices to 1e-9, Greeks to 1e-6 relative, the implied volatility round trip to 1e-6.
* American, the approximation itself: QuantLib's ``QdFpAmericanEngine`` (high precision) is the exact price;
  the documented tolerance is what Bjerksund-Stensland gives away (docs/architecture.md).
* European: vollib (Jäckel's "Let's be rational" and the textbook Greeks): prices, Greeks and implied
  volatility to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from vollib.black_scholes_merton import black_scholes_merton as vollib_price
from vollib.black_scholes_merton.greeks import analytical as vollib_greeks
from vollib.black_scholes_merton.implied_volatility import implied_volatility as vollib_iv

from tests.pricing.reference import Grid, grid, quantlib_american
from workflows.pricing import black_scholes, solve, valuation
from workflows.pricing.bjerksund_stensland import trigger_distance
from workflows.pricing.greeks import SPOT_STEP
from workflows.pricing.implied import HALF_TICK

#: Rows whose Greeks are compared: priced at half a tick or more, and away from the approximation's kinks
#: (its flat exercise trigger, and where it hands over to the European price) by more than the spot steps.
MIN_PRICE = 0.005
#: Documented accuracy of the approximation against the exact American price on this grid.
APPROXIMATION_PRICE_TOLERANCE = 0.045  # relative: at most 4.5% below the exact American price
APPROXIMATION_IV_TOLERANCE = 0.075  # volatility, for rows with vega of at least 1 cent per point
APPROXIMATION_IV_TYPICAL = 0.001  # the median row


@pytest.fixture(scope="module")
def cases() -> Grid:
    return grid()


@pytest.fixture(scope="module")
def american(cases: Grid) -> dict[str, np.ndarray]:
    refs = [quantlib_american(row, "bjerksund_stensland") for row in cases.rows()]
    return {key: np.array([r[key] for r in refs]) for key in refs[0]}


def _relative(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(b), floor)


def test_american_prices_equal_quantlib_bjerksund_stensland(
    cases: Grid, american: dict[str, np.ndarray]
) -> None:
    ours = valuation(True, cases.call, cases.s, cases.k, cases.t, cases.r, cases.q, cases.vol)
    assert len(cases.call) == 3024
    assert np.max(np.abs(ours.price - american["price"])) < 1e-9


def _regime(cases: Grid, spot: np.ndarray) -> np.ndarray:
    """0: the European price (never exercised early, or the approximation fell below it), 1: exercised at
    once, 2: the approximation proper."""
    args = (cases.call, spot, cases.k, cases.t, cases.r, cases.q, cases.vol)
    ours = valuation(True, *args).price
    european = black_scholes.price(*args)
    exercised = trigger_distance(*args) >= 0
    return np.where(exercised, 1, np.where(np.abs(ours - european) <= 1e-12 * ours, 0, 2))


def _smooth(cases: Grid) -> np.ndarray:
    """Rows whose model is one smooth piece over the difference steps (the approximation has kinks at its
    flat exercise trigger and where it hands over to the European price)."""
    reach = 2.5 * SPOT_STEP * cases.vol * np.sqrt(cases.t) * cases.s
    here = _regime(cases, cases.s)
    return (here == _regime(cases, cases.s - reach)) & (here == _regime(cases, cases.s + reach))


def test_american_greeks_equal_quantlib_to_1e_6_relative(
    cases: Grid, american: dict[str, np.ndarray]
) -> None:
    ours = valuation(True, cases.call, cases.s, cases.k, cases.t, cases.r, cases.q, cases.vol)
    intrinsic = np.maximum(np.where(cases.call, cases.s - cases.k, cases.k - cases.s), 0.0)
    alive = ours.price - intrinsic >= MIN_PRICE  # at least half a tick of time value
    compared = alive & _smooth(cases)
    assert compared.sum() > 0.95 * alive.sum()
    # relative to the value, or to a floor for values near zero (gamma: absolute 1e-8 below 0.01 per dollar)
    for name, floor in (("delta", 1e-3), ("gamma", 1e-2), ("theta", 1e-4), ("vega", 1e-4)):
        err = _relative(getattr(ours, name)[compared], american[name][compared], floor)
        assert np.max(err) < 1e-6, (name, float(np.max(err)))


def test_american_implied_volatility_round_trips(cases: Grid, american: dict[str, np.ndarray]) -> None:
    solved = solve(True, cases.call, cases.s, cases.k, cases.t, cases.r, cases.q, american["price"])
    ok = solved.solved
    intrinsic = np.maximum(np.where(cases.call, cases.s - cases.k, cases.k - cases.s), 0.0)
    # at least half a cent of time value: within it of exercise value a price has none (no_time_value)
    identifiable = (american["price"] - intrinsic > HALF_TICK) & (american["vega"] >= 1e-3)
    assert ok[identifiable].all(), set(solved.reason[identifiable & ~ok])
    assert np.max(np.abs(solved.iv[ok] - cases.vol[ok])) < 1e-6
    # Greeks at the solved volatility are QuantLib's at the true one
    compared = identifiable & _smooth(cases)
    for name in ("delta", "vega"):
        err = _relative(getattr(solved, name)[compared], american[name][compared], 1e-3)
        assert np.max(err) < 1e-5, name


def test_the_approximation_is_within_its_documented_tolerance_of_the_exact_american_price(
    cases: Grid,
) -> None:
    # a sub-grid keeps QuantLib's high-precision engine cheap: every strike, expiry and vol, one rate/yield pair
    pick = (cases.r == 0.05) & (cases.q == 0.015)
    rows = [row for row, keep in zip(cases.rows(), pick, strict=True) if keep]
    exact = np.array([quantlib_american(row, "exact")["price"] for row in rows])
    sub = {f: getattr(cases, f)[pick] for f in ("call", "s", "k", "r", "q", "vol")}
    t = cases.t[pick]
    ours = valuation(True, sub["call"], sub["s"], sub["k"], t, sub["r"], sub["q"], sub["vol"])
    assert np.all(ours.price <= exact + 1e-9)  # Bjerksund-Stensland 1993 is a lower bound
    assert np.max((exact - ours.price) / np.maximum(exact, MIN_PRICE)) < APPROXIMATION_PRICE_TOLERANCE
    # what that means for implied volatility: the exact price read through the approximation
    implied = solve(True, sub["call"], sub["s"], sub["k"], t, sub["r"], sub["q"], exact)
    liquid = (exact >= MIN_PRICE) & (ours.vega >= 0.01) & implied.solved
    assert liquid.sum() > 150
    gap = np.abs(implied.iv[liquid] - sub["vol"][liquid])
    assert np.max(gap) < APPROXIMATION_IV_TOLERANCE
    assert np.median(gap) < APPROXIMATION_IV_TYPICAL


def test_european_prices_greeks_and_iv_equal_vollib(cases: Grid) -> None:
    pick = np.arange(0, len(cases.call), 3)  # a third of the grid: vollib is pure Python
    c, s, k, t, r, q, vol = (cases.call[pick], cases.s[pick], cases.k[pick], cases.t[pick], cases.r[pick],
                             cases.q[pick], cases.vol[pick])  # fmt: skip
    ours = valuation(False, c, s, k, t, r, q, vol)
    flags = ["c" if x else "p" for x in c]
    rows = list(zip(flags, s, k, t, r, vol, q, strict=True))
    ref_price = np.array([vollib_price(f, S, K, T, R, V, Q) for f, S, K, T, R, V, Q in rows])
    assert np.max(np.abs(ours.price - ref_price)) < 1e-9
    for name in ("delta", "gamma", "theta", "vega"):
        fn = getattr(vollib_greeks, name)
        ref = np.array([fn(f, S, K, T, R, V, Q) for f, S, K, T, R, V, Q in rows])
        err = _relative(getattr(ours, name), ref, 1e-6)
        assert np.max(err) < 1e-6, name
    exercise = np.maximum(
        np.where(c, s * np.exp(-q * t) - k * np.exp(-r * t), k * np.exp(-r * t) - s * np.exp(-q * t)), 0.0
    )
    liquid = (ref_price - exercise > HALF_TICK) & (ours.vega >= 1e-3)
    solved = solve(False, c, s, k, t, r, q, ref_price)
    assert solved.solved[liquid].all()
    assert np.max(np.abs(solved.iv[liquid] - vol[liquid])) < 1e-6
    ref_iv = np.array([vollib_iv(p, S, K, T, R, Q, f) for p, (f, S, K, T, R, _, Q) in
                       zip(ref_price[liquid], np.array(rows, dtype=object)[liquid], strict=True)])  # fmt: skip
    assert np.max(np.abs(solved.iv[liquid] - ref_iv)) < 1e-6
