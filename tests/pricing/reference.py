"""Independent references for the pricing tests: QuantLib's American engines and vollib's Black-Scholes-Merton.

QuantLib prices one option at a time on flat curves (Actual/365 Fixed, continuous compounding, a constant
volatility), so a grid of a few thousand rows stays cheap; vollib is Jäckel's "Let's be rational" with the
textbook Greeks (theta per calendar day, vega per vol point), the vendor's conventions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import QuantLib as ql

TODAY = ql.Date(2, 1, 2025)
DAY_COUNT = ql.Actual365Fixed()

#: The grid: spots, strikes (moneyness 0.6..1.5), days to expiry (1 day to 2 years), rates, dividend yields, vols.
SPOT = 100.0
STRIKES = (60.0, 80.0, 95.0, 100.0, 105.0, 120.0, 150.0)
DAYS = (1, 7, 30, 91, 365, 730)
RATES = (0.0, 0.02, 0.05)
YIELDS = (0.0, 0.015, 0.06)
VOLS = (0.08, 0.25, 0.6, 1.2)


@dataclass(frozen=True)
class Grid:
    call: np.ndarray
    s: np.ndarray
    k: np.ndarray
    days: np.ndarray
    r: np.ndarray
    q: np.ndarray
    vol: np.ndarray

    @property
    def t(self) -> np.ndarray:
        return self.days / 365.0

    def rows(self) -> list[tuple[bool, float, float, int, float, float, float]]:
        return list(zip(self.call.tolist(), self.s.tolist(), self.k.tolist(), self.days.tolist(),
                        self.r.tolist(), self.q.tolist(), self.vol.tolist(), strict=True))  # fmt: skip


def grid() -> Grid:
    rows = list(itertools.product((True, False), STRIKES, DAYS, RATES, YIELDS, VOLS))
    a = np.array(rows, dtype=float)
    return Grid(a[:, 0] > 0, np.full(len(a), SPOT), a[:, 1], a[:, 2].astype(int), a[:, 3], a[:, 4], a[:, 5])


def quantlib_american(
    row: tuple[bool, float, float, int, float, float, float], engine: str
) -> dict[str, float]:
    """Price (and, for the Bjerksund-Stensland engine, Greeks in the vendor's units) of one American option."""
    call, s, k, days, r, q, vol = row
    ql.Settings.instance().evaluationDate = TODAY
    spot = ql.QuoteHandle(ql.SimpleQuote(s))
    rates = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT, ql.Continuous))
    divs = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, q, DAY_COUNT, ql.Continuous))
    vols = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, DAY_COUNT))
    process = ql.BlackScholesMertonProcess(spot, divs, rates, vols)
    kind = ql.Option.Call if call else ql.Option.Put
    option = ql.VanillaOption(ql.PlainVanillaPayoff(kind, k), ql.AmericanExercise(TODAY, TODAY + int(days)))
    if engine == "bjerksund_stensland":
        option.setPricingEngine(ql.BjerksundStenslandApproximationEngine(process))
        return {
            "price": option.NPV(),
            "delta": option.delta(),
            "gamma": option.gamma(),
            "theta": option.thetaPerDay(),
            "vega": option.vega() / 100.0,
        }
    # QuantLib's high-precision fixed-point engine (Andersen-Lake-Offengeim): the exact American price
    option.setPricingEngine(ql.QdFpAmericanEngine(process, ql.QdFpAmericanEngine.highPrecisionScheme()))
    return {"price": option.NPV()}
