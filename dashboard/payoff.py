"""Profit and loss of a multi-leg option position: at the first expiry and today (Black-Scholes, each leg
at its own implied volatility), breakevens, and the position's net Greeks.

Only the strategy page needs this, on a few hundred prices: plain numpy with the normal CDF from ``math.erf``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

F64 = NDArray[np.float64]
_erf = np.vectorize(math.erf, otypes=[np.float64])
#: Trading days per year for theta per day.
DAYS_PER_YEAR = 365.0


def norm_cdf(x: F64) -> F64:
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def black_scholes(spot: F64, strike: float, years: float, vol: float, rate: float, call: bool) -> F64:
    """European option value; at or past expiry (or without volatility) the intrinsic value."""
    intrinsic = np.maximum(spot - strike, 0.0) if call else np.maximum(strike - spot, 0.0)
    if years <= 0 or not vol or not math.isfinite(vol) or vol <= 0:
        return intrinsic
    sqrt_t = math.sqrt(years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    discount = math.exp(-rate * years)
    if call:
        return spot * norm_cdf(d1) - strike * discount * norm_cdf(d2)
    return strike * discount * norm_cdf(-d2) - spot * norm_cdf(-d1)


@dataclass(frozen=True)
class Payoff:
    prices: F64
    at_expiry: F64
    today: F64
    breakevens: list[float]
    cost: float  # premium paid (positive) or received (negative) for the whole position
    horizon_days: int  # days to the first expiry


def position_payoff(legs: pd.DataFrame, rate: float, width: float = 0.35, points: int = 241) -> Payoff:
    """``legs`` has quantity, contract_type, strike_price, years_to_expiry, implied_volatility,
    option_price, shares_per_contract and underlying_price (one row per leg)."""
    spot = float(legs["underlying_price"].iloc[0])
    prices = np.linspace(spot * (1 - width), spot * (1 + width), points)
    first = float(legs["years_to_expiry"].min())
    at_expiry = np.zeros(points)
    today = np.zeros(points)
    cost = 0.0
    for leg in legs.itertuples(index=False):
        size = float(leg.quantity) * float(leg.shares_per_contract or 100)
        call = leg.contract_type == "call"
        entry = float(leg.option_price)
        vol = float(leg.implied_volatility) if pd.notna(leg.implied_volatility) else 0.0
        years = float(leg.years_to_expiry)
        cost += size * entry
        # At the first expiry, legs that expire later still have time value.
        at_expiry += size * (
            black_scholes(prices, float(leg.strike_price), years - first, vol, rate, call) - entry
        )
        today += size * (black_scholes(prices, float(leg.strike_price), years, vol, rate, call) - entry)
    return Payoff(prices, at_expiry, today, breakevens(prices, at_expiry), cost, round(first * DAYS_PER_YEAR))


def breakevens(prices: F64, pnl: F64) -> list[float]:
    """Underlying prices where the P/L crosses zero (linear between grid points)."""
    out = []
    sign = np.sign(pnl)
    for i in np.nonzero(sign[:-1] * sign[1:] < 0)[0]:
        x0, x1, y0, y1 = prices[i], prices[i + 1], pnl[i], pnl[i + 1]
        out.append(round(float(x0 - y0 * (x1 - x0) / (y1 - y0)), 2))
    out += [round(float(prices[i]), 2) for i in np.nonzero(pnl == 0)[0]]
    return sorted(set(out))


def net_greeks(legs: pd.DataFrame) -> dict[str, float]:
    """Position Greeks from the marts' per-contract Greeks: delta in shares, gamma in shares per $1,
    theta in $ per day, vega in $ per volatility point."""
    size = legs["quantity"].astype(float) * legs["shares_per_contract"].fillna(100).astype(float)
    return {
        greek: round(float((size * legs[greek].fillna(0).astype(float)).sum()), 4)
        for greek in ("delta", "gamma", "theta", "vega")
    }
