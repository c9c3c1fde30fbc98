"""Prices and Greeks of listed options by exercise style: European in closed form, American by the
Bjerksund-Stensland approximation with Greeks by central differences of that same model.

Conventions (the vendor's): delta and gamma per unit of the underlying, theta per calendar day (minus the
derivative in years to expiry, divided by 365), vega per volatility point. Steps are relative (1e-5 of
the spot, of the years to expiry and of the volatility), small enough that the differences agree with
QuantLib's analytic Greeks of the same model to about 1e-7, large enough that rounding stays below that.
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
        p = bjerksund_stensland.price
        hs, ht, hv = s1 * v1 * np.sqrt(t1) * SPOT_STEP, t1 * STEP, v1 * STEP
        # the approximation has a kink at its exercise trigger: keep the spot stencil on one side of it
        kink = np.abs(bjerksund_stensland.trigger_distance(c_, s1, k1, t1, r1, q1, v1)) * s1
        hs = np.where(np.isfinite(kink), np.clip(0.4 * kink, hs * 1e-3, hs), hs)
        mid = p(c_, s1, k1, t1, r1, q1, v1)
        up, down = p(c_, s1 + hs, k1, t1, r1, q1, v1), p(c_, s1 - hs, k1, t1, r1, q1, v1)
        up2, down2 = p(c_, s1 + 2 * hs, k1, t1, r1, q1, v1), p(c_, s1 - 2 * hs, k1, t1, r1, q1, v1)
        value[am] = mid
        # Richardson: (4 D(h) - D(2h)) / 3 cancels the h**2 term of both central differences
        delta[am] = (8.0 * (up - down) - (up2 - down2)) / (12.0 * hs)
        # a long option is convex in the spot: where the approximation's hand-over to the European price
        # leaves a kink inside the stencil, the difference can dip a hair below zero; it is floored there
        gamma[am] = np.maximum((16.0 * (up + down) - (up2 + down2) - 30.0 * mid) / (12.0 * hs * hs), 0.0)
        longer, shorter = p(c_, s1, k1, t1 + ht, r1, q1, v1), p(c_, s1, k1, t1 - ht, r1, q1, v1)
        theta[am] = -(longer - shorter) / (2.0 * ht) / black_scholes.DAYS_PER_YEAR
        higher, lower = p(c_, s1, k1, t1, r1, q1, v1 + hv), p(c_, s1, k1, t1, r1, q1, v1 - hv)
        vega[am] = (higher - lower) / (2.0 * hv) / 100.0
    return Valuation(value, delta, gamma, theta, vega)


def _arrays(american: ArrayLike, call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
            q: ArrayLike, x: ArrayLike) -> tuple[B, B, F64, F64, F64, F64, F64, F64]:  # fmt: skip
    """Broadcast inputs to 1-D arrays: two boolean flags, then six floats."""
    am, c, *rest = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v)) for v in (american, call, s, k, t, r, q, x))
    )
    s_, k_, t_, r_, q_, x_ = (np.asarray(v, dtype=np.float64) for v in rest)
    return am.astype(bool), c.astype(bool), s_, k_, t_, r_, q_, x_
