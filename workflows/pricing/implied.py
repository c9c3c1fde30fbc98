"""Implied volatility and Greeks for rows of option prices, with a reason code for every row left unsolved.

A row is solved when its inputs are usable and its price lies strictly inside the model's range: more than
:data:`HALF_TICK` above its exercise value, above the model price at :data:`VOL_MIN` (which is at least the
no-arbitrage lower bound) and below the model price at :data:`VOL_MAX`. A quote is rounded to the cent, so a
price within half a cent of exercise value may have no time value at all: any volatility from zero up to some
level explains it, and its IV and Greeks would be an artefact of rounding (a put at K - S solved to 32% vol
and a gamma of 51 moved a mart's gamma exposure by 2e9, issue 15). The root is bracketed in volatility and found by Chandrupatla's method
(``scipy.optimize.elementwise.find_root``, vectorised over rows); Greeks are taken at the solved volatility.
Rows that cannot be solved, or whose price hardly depends on volatility, get NaN values and one of
:data:`REASONS`, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import elementwise

from workflows.pricing import greeks

F64 = NDArray[np.float64]
VOL_MIN, VOL_MAX = 0.001, 5.0
#: Why a row has no implied volatility (``None`` when it has one), checked in this order.
REASONS = (
    "no_price",  # no usable option price (no midpoint, close or VWAP, or not positive)
    "no_underlying_price",  # no close of the underlying that day
    "bad_terms",  # strike, rate or dividend yield missing or not finite
    "expired",  # zero (or negative) time to expiry: at the expiry-day close only intrinsic value is left
    "below_intrinsic",  # price below the no-arbitrage lower bound (intrinsic; discounted for European)
    "above_upper_bound",  # price at or above the upper bound (the spot for calls, the strike for puts)
    "no_time_value",  # price within HALF_TICK of exercise value, or at or below the model at VOL_MIN
    "vol_above_max",  # price above the model price at VOL_MAX
    "not_converged",  # the root finder did not converge
    "no_vega",  # solved, but a vol point moves the price by less than VEGA_FLOOR: the IV would be noise
)
#: Each computed status in a user's words: the reasons above, and the chain's 'pending' and 'solved'
#: (the dashboard's provenance panel and `smelt trace` show them beside the code).
REASON_TEXT = {
    "no_price": "no usable option price (no quote midpoint, close or VWAP above zero)",
    "no_underlying_price": "no close of the underlying that day",
    "bad_terms": "strike, rate or dividend yield missing",
    "expired": "expiry day: only intrinsic value is left",
    "below_intrinsic": "price below intrinsic value (no volatility fits)",
    "above_upper_bound": "price at or above its upper bound (the spot for calls, the strike for puts)",
    "no_time_value": "price at its exercise value: no time value to solve from",
    "vol_above_max": "price above the model price at the highest volatility tried",
    "not_converged": "the solver did not converge",
    "no_vega": "solved, but too insensitive to volatility for the value to mean anything",
    "pending": "not computed yet (the next transform solves it)",
    "solved": "solved",
}
#: Vega per vol point below which an implied volatility is not reported (a hundredth of a cent).
VEGA_FLOOR = 1e-4
#: Relative price tolerance for the bound checks, so that a price equal to a bound up to rounding counts as on it.
BOUND_TOLERANCE = 1e-12
#: Time value (price above exercise value) at or below which a price is taken to have none: half the quote's
#: tick, the rounding of a price quoted in cents. Exercise value is intrinsic value for American options and
#: the discounted forward's for European ones (the lower bounds above).
HALF_TICK = 0.005
#: Iterations of the root finder; bracketed rows take a median of 8 (at most 22 over 2,000 random quotes).
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class Solution:
    """Implied volatility, Greeks and a reason per row (``reason`` is None exactly where ``iv`` is set)."""

    iv: F64
    delta: F64
    gamma: F64
    theta: F64
    vega: F64
    reason: NDArray[np.object_]

    @property
    def solved(self) -> NDArray[np.bool_]:
        return np.asarray(np.isfinite(self.iv))


def solve(american: ArrayLike, call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
          q: ArrayLike, price: ArrayLike) -> Solution:  # fmt: skip
    """Implied volatility and Greeks of each row, or NaN with a reason code."""
    am, c, s_, k_, t_, r_, q_, p_ = greeks._arrays(american, call, s, k, t, r, q, price)
    n = len(p_)
    reason = np.full(n, None, dtype=object)

    def flag(code: str, mask: NDArray[np.bool_]) -> None:
        reason[mask & (reason == None)] = code  # noqa: E711 (elementwise comparison)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        flag("no_price", ~(np.isfinite(p_) & (p_ > 0)))
        flag("no_underlying_price", ~(np.isfinite(s_) & (s_ > 0)))
        flag("bad_terms", ~(np.isfinite(k_) & (k_ > 0) & np.isfinite(r_) & np.isfinite(q_) & np.isfinite(t_)))
        flag("expired", t_ <= 0)
        live = reason == None  # noqa: E711
        dq, dr = np.exp(-q_ * t_), np.exp(-r_ * t_)
        intrinsic = np.where(c, s_ - k_, k_ - s_)
        forward_intrinsic = np.where(c, s_ * dq - k_ * dr, k_ * dr - s_ * dq)
        lower = np.maximum(np.where(am, intrinsic, forward_intrinsic), 0.0)
        upper = np.where(c, np.where(am, s_, s_ * dq), np.where(am, k_, k_ * dr))
        tol = BOUND_TOLERANCE * np.maximum(np.abs(p_), 1.0)
        flag("below_intrinsic", live & (p_ < lower - tol))
        flag("above_upper_bound", live & (p_ >= upper - tol))
        flag("no_time_value", live & (p_ - lower <= HALF_TICK + tol))

    idx = np.nonzero(reason == None)[0]  # noqa: E711
    iv = np.full(n, np.nan)
    if len(idx):
        args = (am[idx], c[idx], s_[idx], k_[idx], t_[idx], r_[idx], q_[idx])
        low = greeks.price(*args, vol=VOL_MIN)
        high = greeks.price(*args, vol=VOL_MAX)
        target = p_[idx]
        too_low, too_high = target <= low, target >= high
        reason[idx[too_low]] = "no_time_value"
        reason[idx[too_high & ~too_low]] = "vol_above_max"
        inside = ~(too_low | too_high)
        iv[idx[inside]] = _root(tuple(a[inside] for a in args), target[inside], reason, idx[inside])

    out = np.full((4, n), np.nan)
    ok = np.nonzero(np.isfinite(iv))[0]
    if len(ok):
        v = greeks.valuation(am[ok], c[ok], s_[ok], k_[ok], t_[ok], r_[ok], q_[ok], iv[ok])
        out[:, ok] = (v.delta, v.gamma, v.theta, v.vega)
        flat = ok[~(v.vega >= VEGA_FLOOR)]
        reason[flat] = "no_vega"
        iv[flat] = np.nan
        out[:, flat] = np.nan
    return Solution(iv, out[0], out[1], out[2], out[3], reason)


def _root(
    args: tuple[NDArray[np.generic], ...], target: F64, reason: NDArray[np.object_], where: NDArray[np.int64]
) -> F64:
    if len(target) == 0:
        return np.zeros(0)

    def gap(vol: F64, am: F64, c: F64, s: F64, k: F64, t: F64, r: F64, q: F64, price: F64) -> F64:
        return greeks.price(am, c, s, k, t, r, q, vol) - price

    found = elementwise.find_root(
        gap,
        (np.full(len(target), VOL_MIN), np.full(len(target), VOL_MAX)),
        args=(*args, target),
        tolerances={"xatol": 1e-12, "xrtol": 1e-12, "fatol": 1e-13, "frtol": 0.0},
        maxiter=MAX_ITERATIONS,
    )
    x = np.asarray(found.x, dtype=np.float64).copy()
    failed = ~np.asarray(found.success)
    reason[where[failed]] = "not_converged"
    x[failed] = np.nan
    return x
