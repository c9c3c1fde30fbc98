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


#: Grid of QuantLib's finite-difference engine: time steps, spot nodes, damping steps (per option).
FD_GRID = (400, 400, 2)


def quantlib_fd_american(row: tuple[bool, float, float, int, float, float, float]) -> dict[str, float]:
    """The American option by QuantLib's finite-difference engine (the true early-exercise boundary, not an
    approximation's): price, delta, gamma and theta (per calendar day: per year / 365) from its grid, vega per
    vol point by the central difference of two vols a point apart."""
    call, s, k, days, r, q, vol = row
    ql.Settings.instance().evaluationDate = TODAY
    spot = ql.QuoteHandle(ql.SimpleQuote(s))
    rates = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT, ql.Continuous))
    divs = ql.YieldTermStructureHandle(ql.FlatForward(TODAY, q, DAY_COUNT, ql.Continuous))
    sigma = ql.SimpleQuote(vol)
    vols = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(TODAY, ql.NullCalendar(), ql.QuoteHandle(sigma), DAY_COUNT)
    )
    process = ql.BlackScholesMertonProcess(spot, divs, rates, vols)
    kind = ql.Option.Call if call else ql.Option.Put

    main = ql.VanillaOption(ql.PlainVanillaPayoff(kind, k), ql.AmericanExercise(TODAY, TODAY + int(days)))
    main.setPricingEngine(ql.FdBlackScholesVanillaEngine(process, *FD_GRID))
    out = {"price": main.NPV(), "delta": main.delta(), "gamma": main.gamma(), "theta": main.theta() / 365.0}
    sigma.setValue(vol + 0.005)
    higher = main.NPV()
    sigma.setValue(vol - 0.005)
    lower = main.NPV()
    out["vega"] = higher - lower
    return out


def edge_grid() -> tuple[Grid, np.ndarray]:
    """American options through their early-exercise boundary, and which of them are near it.

    Puts (r 4.5%, q 0.5%) and calls (r 1%, q 5%), 14 days to 18 months, vols 20-90%, struck from one standard
    deviation of the log-spot to expiry out of the money to five in it (steps of 0.4), plus strikes on both
    sides of each point where the approximation changes piece (its closed form meets the European price or
    intrinsic value, or its trigger is reached: kinks), 0.1% to 30% of a standard deviation away. Near the
    boundary: within half a standard deviation of such a kink.
    """
    from workflows.pricing import black_scholes, price

    rows, near = [], []
    for call, days, vol in itertools.product((False, True), (14, 60, 180, 540), (0.2, 0.45, 0.9)):
        (r, q), t = (0.01, 0.05) if call else (0.045, 0.005), days / 365.0
        sd = vol * np.sqrt(t)

        def strikes(z: np.ndarray, sd: float = sd, call: bool = call) -> np.ndarray:
            return np.asarray(np.round(SPOT * np.exp((-z if call else z) * sd), 4))

        scan = np.arange(-1.0, 6.0, 0.001)
        k = strikes(scan)
        value = price(True, call, SPOT, k, t, r, q, vol)
        intrinsic = np.maximum((SPOT - k) if call else (k - SPOT), 0.0)
        piece = np.where(
            value <= intrinsic, 1, np.where(value <= black_scholes.price(call, SPOT, k, t, r, q, vol), 0, 2)
        )
        changes = scan[1:][piece[1:] != piece[:-1]]
        # where the closed form is the European price to rounding the piece flickers: a cluster's two ends
        ends = np.nonzero(np.diff(changes) > 0.05)[0]
        kinks = np.unique(np.concatenate([changes[:1], changes[ends], changes[ends + 1], changes[-1:]]))
        zs = np.concatenate(
            [np.arange(-1.0, 5.01, 0.4), *(kinks + d for d in (-0.3, -0.03, -0.003, 0.003, 0.03, 0.3))]
        )
        for z, kk in zip(zs.tolist(), strikes(zs).tolist(), strict=True):
            rows.append((call, SPOT, kk, days, r, q, vol))
            near.append(bool(len(kinks)) and float(np.min(np.abs(kinks - z))) < 0.5)
    a = np.array(rows, dtype=float)
    grid = Grid(a[:, 0] > 0, a[:, 1], a[:, 2], a[:, 3].astype(int), a[:, 4], a[:, 5], a[:, 6])
    return grid, np.array(near)
