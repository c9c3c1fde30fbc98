"""European options under Black-Scholes-Merton: price and analytic Greeks, vectorised over numpy arrays.

Inputs are arrays of one shape (or scalars): ``call`` (bool), spot ``s``, strike ``k``, years ``t``, the
continuously compounded rate ``r`` and dividend yield ``q``, and the volatility ``vol``. Greeks follow the
vendor's conventions: delta and gamma per unit of the underlying, theta per calendar day (the year's
derivative / 365), vega per volatility point (per 0.01 of vol).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

F64 = NDArray[np.float64]
DAYS_PER_YEAR = 365.0
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _pdf(x: F64) -> F64:
    return np.asarray(np.exp(-0.5 * x * x) * _INV_SQRT_2PI, dtype=np.float64)


def _d1_d2(s: F64, k: F64, t: F64, r: F64, q: F64, vol: F64) -> tuple[F64, F64, F64]:
    vs = vol * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * vol * vol) * t) / vs
    return d1, d1 - vs, vs


def price(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
          vol: ArrayLike) -> F64:  # fmt: skip
    """The European price; ``t`` and ``vol`` must be positive."""
    c, s_, k_, t_, r_, q_, v_ = _arrays(call, s, k, t, r, q, vol)
    d1, d2, _ = _d1_d2(s_, k_, t_, r_, q_, v_)
    sign = np.where(c, 1.0, -1.0)
    out = sign * (s_ * np.exp(-q_ * t_) * ndtr(sign * d1) - k_ * np.exp(-r_ * t_) * ndtr(sign * d2))
    return np.asarray(out, dtype=np.float64)


def greeks(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
           vol: ArrayLike) -> tuple[F64, F64, F64, F64]:  # fmt: skip
    """Delta, gamma, theta (per calendar day) and vega (per vol point) of European options."""
    c, s_, k_, t_, r_, q_, v_ = _arrays(call, s, k, t, r, q, vol)
    d1, d2, vs = _d1_d2(s_, k_, t_, r_, q_, v_)
    sign = np.where(c, 1.0, -1.0)
    dq, dr = np.exp(-q_ * t_), np.exp(-r_ * t_)
    pdf = _pdf(d1)
    nd1, nd2 = ndtr(sign * d1), ndtr(sign * d2)
    delta = sign * dq * nd1
    gamma = dq * pdf / (s_ * vs)
    decay = -s_ * dq * pdf * v_ / (2.0 * np.sqrt(t_))
    theta = (decay + sign * (q_ * s_ * dq * nd1 - r_ * k_ * dr * nd2)) / DAYS_PER_YEAR
    vega = s_ * dq * pdf * np.sqrt(t_) / 100.0
    return delta, gamma, theta, vega


def _arrays(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
            vol: ArrayLike) -> tuple[NDArray[np.bool_], F64, F64, F64, F64, F64, F64]:  # fmt: skip
    c, *rest = np.broadcast_arrays(*(np.asarray(v) for v in (call, s, k, t, r, q, vol)))
    s_, k_, t_, r_, q_, v_ = (np.asarray(v, dtype=np.float64) for v in rest)
    return c.astype(bool), s_, k_, t_, r_, q_, v_
