"""Profit and loss of a multi-leg option position: at the first expiry and today, breakevens, and the
position's net Greeks.

Legs are valued by the pipeline's own model (``workflows.pricing``: American legs by Bjerksund-Stensland,
European ones by Black-Scholes-Merton), each at its implied volatility and the underlying's dividend yield,
so the page draws the same prices the Greeks step solved against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from workflows import pricing

F64 = NDArray[np.float64]
#: Calendar days per year, for the horizon in days (years to expiry are calendar years, as in the marts).
DAYS_PER_YEAR = 365.0


def leg_value(prices: F64, leg: Any, years: float, rate: float) -> F64:
    """One leg's value over the underlying ``prices`` with ``years`` left; intrinsic value at or past expiry
    or without a volatility. ``leg`` carries contract_type, strike_price, implied_volatility, exercise_model
    and dividend_yield (NULL counts as none)."""
    call = leg.contract_type == "call"
    strike = float(leg.strike_price)
    intrinsic = np.maximum(prices - strike, 0.0) if call else np.maximum(strike - prices, 0.0)
    vol = float(leg.implied_volatility) if pd.notna(leg.implied_volatility) else 0.0
    if years <= 0 or not np.isfinite(vol) or vol <= 0:
        return intrinsic
    american = leg.exercise_model != "european"  # as the Greeks step decides (NULL: American)
    dividend_yield = float(leg.dividend_yield) if pd.notna(leg.dividend_yield) else 0.0
    return pricing.price(american, call, prices, strike, years, rate, dividend_yield, vol)


@dataclass(frozen=True)
class Payoff:
    prices: F64
    at_expiry: F64
    today: F64
    breakevens: list[float]
    cost: float  # premium paid (positive) or received (negative) for the whole position
    horizon_days: int  # days to the first expiry


def position_payoff(legs: pd.DataFrame, rate: float | None, width: float = 0.35, points: int = 241) -> Payoff:
    """``legs`` has quantity, option_price, years_to_expiry, shares_per_contract, underlying_price,
    risk_free_rate and what :func:`leg_value` reads (one row per leg). ``rate`` overrides every leg's rate;
    None prices each leg at its own: the day's Treasury curve at its maturity, as published."""
    spot = float(legs["underlying_price"].iloc[0])
    prices = np.linspace(spot * (1 - width), spot * (1 + width), points)
    first = float(legs["years_to_expiry"].min())
    at_expiry = np.zeros(points)
    today = np.zeros(points)
    cost = 0.0
    for leg in legs.itertuples(index=False):
        size = float(leg.quantity) * float(leg.shares_per_contract or 100)
        entry = float(leg.option_price)
        years = float(leg.years_to_expiry)
        r = float(leg.risk_free_rate) if rate is None else rate
        cost += size * entry
        # At the first expiry, legs that expire later still have time value.
        at_expiry += size * (leg_value(prices, leg, years - first, r) - entry)
        today += size * (leg_value(prices, leg, years, r) - entry)
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
