"""The carry conventions every computed number uses: the risk-free rate for a maturity, and the dividend yield.

The dbt models ``int_rates__treasury_curve`` / ``int_options__pricing_inputs`` implement these in SQL for the
pipeline; the simulator prices with this Python copy, and a test checks that the two agree on the same rows.

* **Rate**: the day's US Treasury par yields (percent, semi-annual bond-equivalent) become continuously
  compounded rates ``r = 2 ln(1 + y / 200)``, interpolated linearly in years to expiry between the quoted
  maturities and held flat beyond the shortest and the longest. A day without a curve (a bond-market holiday)
  uses the latest curve of the :data:`CURVE_STALENESS_DAYS` before it.
* **Dividends**: the indicated annual dividend (the latest regular cash dividend declared by the day, times
  its frequency, in the day's share basis after splits since its ex-date) as a continuous yield on the day's
  close, ``q = ln(1 + D / S)``. A dividend whose ex-date is more than :data:`DIVIDEND_STALENESS_DAYS` old no
  longer counts (the payer stopped); no dividend means ``q = 0``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

#: The curve's fields and their maturities in years (the vendor's names).
MATURITIES: dict[str, float] = {
    "yield_1_month": 1 / 12,
    "yield_3_month": 0.25,
    "yield_6_month": 0.5,
    "yield_1_year": 1.0,
    "yield_2_year": 2.0,
    "yield_3_year": 3.0,
    "yield_5_year": 5.0,
    "yield_7_year": 7.0,
    "yield_10_year": 10.0,
    "yield_20_year": 20.0,
    "yield_30_year": 30.0,
}
CURVE_STALENESS_DAYS = 7
DIVIDEND_STALENESS_DAYS = 400


def continuous_rate(par_yield_percent: ArrayLike) -> F64:
    """A semi-annual bond-equivalent yield in percent as a continuously compounded rate."""
    return np.asarray(2.0 * np.log1p(np.asarray(par_yield_percent, dtype=np.float64) / 200.0))


def rate_for(years: ArrayLike, curve: dict[str, float]) -> F64:
    """The continuous rate for each maturity (in years) on one day's curve (missing maturities skipped)."""
    points = sorted((MATURITIES[k], float(v)) for k, v in curve.items() if k in MATURITIES and v is not None)
    xs = np.array([p[0] for p in points])
    ys = continuous_rate([p[1] for p in points])
    return np.asarray(np.interp(np.asarray(years, dtype=np.float64), xs, ys), dtype=np.float64)


def dividend_yield(annual_dividend: ArrayLike, spot: ArrayLike) -> F64:
    """The indicated annual dividend per share as a continuous yield on the spot."""
    return np.asarray(
        np.log1p(np.asarray(annual_dividend, dtype=np.float64) / np.asarray(spot, dtype=np.float64))
    )
