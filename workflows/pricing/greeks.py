"""Prices and Greeks of listed options by exercise style: European in closed form, American by the
Bjerksund-Stensland approximation with Greeks of the smooth piece that prices each row.

The approximation is piecewise: its closed form, floored at the European price and at intrinsic value (and
intrinsic value at or beyond its flat exercise trigger). Differences of the floored price straddle those kinks
near the boundary (gamma 0.39 where the true American gamma is 0.0025, issue 15), so each row's Greeks are
those of the piece that prices it: Black-Scholes-Merton's closed forms on the European piece, intrinsic
value's (delta of one, nothing else) when exercised, and central differences of the closed form alone, which
is smooth everywhere, on the closed-form piece. QuantLib's analytic Greeks of the same engine agree to 1e-6.

Conventions (the vendor's): delta and gamma per unit of the underlying, theta per calendar day (minus the
derivative in years to expiry, divided by 365), vega per volatility point. Steps are relative (1e-2 of a
standard deviation of the spot to expiry, 1e-4 of the years to expiry and of the volatility), small enough
that the differences agree with QuantLib's analytic Greeks of the same model to about 1e-7, large enough that
rounding stays below that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workflows.pricing import bjerksund_stensland, black_scholes

F64 = NDArray[np.float64]
B = NDArray[np.bool_]
STEP = 1e-4
SPOT_STEP = 1e-2


@dataclass(frozen=True)
class Valuation:
    """Price and Greeks of options, arrays of one length."""

    price: F64
    delta: F64
    gamma: F64
    theta: F64
    vega: F64


def price(american: ArrayLike, call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
          q: ArrayLike, vol: ArrayLike) -> F64:  # fmt: skip
    """The option price: American rows by Bjerksund-Stensland, the others by Black-Scholes-Merton."""
    am, c, s_, k_, t_, r_, q_, v_ = _arrays(american, call, s, k, t, r, q, vol)
    out = np.empty_like(s_)
    if am.any():
        out[am] = bjerksund_stensland.price(c[am], s_[am], k_[am], t_[am], r_[am], q_[am], v_[am])
    eu = ~am
    if eu.any():
        out[eu] = black_scholes.price(c[eu], s_[eu], k_[eu], t_[eu], r_[eu], q_[eu], v_[eu])
    return out


def valuation(american: ArrayLike, call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
              q: ArrayLike, vol: ArrayLike) -> Valuation:  # fmt: skip
    """Price, delta, gamma, theta and vega; ``t`` and ``vol`` must be positive."""
    am, c, s_, k_, t_, r_, q_, v_ = _arrays(american, call, s, k, t, r, q, vol)
    n = len(s_)
    value, delta, gamma, theta, vega = (np.empty(n) for _ in range(5))
    eu = ~am
    if eu.any():
        args = (c[eu], s_[eu], k_[eu], t_[eu], r_[eu], q_[eu], v_[eu])
        value[eu] = black_scholes.price(*args)
        delta[eu], gamma[eu], theta[eu], vega[eu] = black_scholes.greeks(*args)
    if am.any():
        c_, s1, k1, t1, r1, q1, v1 = (a[am] for a in (c, s_, k_, t_, r_, q_, v_))
        value[am], piece = bjerksund_stensland.pieces(c_, s1, k1, t1, r1, q1, v1)
        out = np.empty((4, len(s1)))
        # the European piece: the closed-form Greeks of Black-Scholes-Merton
        on = piece == bjerksund_stensland.EUROPEAN
        if on.any():
            out[:, on] = black_scholes.greeks(c_[on], s1[on], k1[on], t1[on], r1[on], q1[on], v1[on])
        # exercised at once: the price is intrinsic value, which moves one for one with the spot and with
        # nothing else (the Greeks of that piece; the solver and the simulator serve none at exercise value)
        on = piece == bjerksund_stensland.EXERCISED
        out[0, on] = np.where(c_[on], 1.0, -1.0)
        out[1:, on] = 0.0
        on = piece == bjerksund_stensland.CLOSED_FORM
        if on.any():
            out[:, on] = _closed_form_greeks(c_[on], s1[on], k1[on], t1[on], r1[on], q1[on], v1[on])
        delta[am], gamma[am], theta[am], vega[am] = out
    return Valuation(value, delta, gamma, theta, vega)


def _closed_form_greeks(c: B, s: F64, k: F64, t: F64, r: F64, q: F64, vol: F64) -> tuple[F64, F64, F64, F64]:
    """Central differences of the closed form alone: it is smooth in every input (continued past the trigger
    and under the floors), so no stencil straddles the kinks where the model switches piece."""
    p = bjerksund_stensland.closed_form
    hs, ht, hv = s * vol * np.sqrt(t) * SPOT_STEP, t * STEP, vol * STEP
    mid = p(c, s, k, t, r, q, vol)
    up, down = p(c, s + hs, k, t, r, q, vol), p(c, s - hs, k, t, r, q, vol)
    up2, down2 = p(c, s + 2 * hs, k, t, r, q, vol), p(c, s - 2 * hs, k, t, r, q, vol)
    # Richardson: (4 D(h) - D(2h)) / 3 cancels the h**2 term of both central differences
    delta = (8.0 * (up - down) - (up2 - down2)) / (12.0 * hs)
    gamma = (16.0 * (up + down) - (up2 + down2) - 30.0 * mid) / (12.0 * hs * hs)
    longer, shorter = p(c, s, k, t + ht, r, q, vol), p(c, s, k, t - ht, r, q, vol)
    theta = -(longer - shorter) / (2.0 * ht) / black_scholes.DAYS_PER_YEAR
    higher, lower = p(c, s, k, t, r, q, vol + hv), p(c, s, k, t, r, q, vol - hv)
    vega = (higher - lower) / (2.0 * hv) / 100.0
    return delta, gamma, theta, vega


def _arrays(american: ArrayLike, call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
            q: ArrayLike, x: ArrayLike) -> tuple[B, B, F64, F64, F64, F64, F64, F64]:  # fmt: skip
    """Broadcast inputs to 1-D arrays: two boolean flags, then six floats."""
    am, c, *rest = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v)) for v in (american, call, s, k, t, r, q, x))
    )
    s_, k_, t_, r_, q_, x_ = (np.asarray(v, dtype=np.float64) for v in rest)
    return am.astype(bool), c.astype(bool), s_, k_, t_, r_, q_, x_
