"""American options by the Bjerksund-Stensland (1993) approximation, vectorised over numpy arrays.

The early-exercise boundary is taken flat at a trigger price ``I``; below it the option is priced in closed
form, at or above it the option is worth its intrinsic value. It is the approximation behind QuantLib's
``BjerksundStenslandApproximationEngine`` (the tests compare the two to 1e-8), a lower bound of the true
American price that is never below intrinsic value nor below the European price. Puts come from calls by
the put-call transformation ``P(S, K, T, r, b) = C(K, S, T, r - b, -b)``, where ``b = r - q`` is the cost
of carry. Like QuantLib, the value is never below the European price (where the flat boundary underprices, or at
or above a trigger below the strike)
and a trigger that runs away (``ln(I / F) > 12.5`` standard deviations) means the European price. Powers
of large exponents are taken in logs, so deep in- and out-of-the-money rows never overflow.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtr

from workflows.pricing import black_scholes

F64 = NDArray[np.float64]
#: A trigger this many standard deviations above the forward is never reached: price as European.
RUNAWAY_STDEVS = 12.5


def price(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
          vol: ArrayLike) -> F64:  # fmt: skip
    """The American price; ``t`` and ``vol`` must be positive."""
    c, s_, k_, t_, r_, q_, v_ = black_scholes._arrays(call, s, k, t, r, q, vol)
    b = r_ - q_
    # put-call transformation: a put is a call on the strike, struck at the spot, with rate r - b, carry -b
    spot = np.where(c, s_, k_)
    strike = np.where(c, k_, s_)
    rate = np.where(c, r_, r_ - b)
    carry = np.where(c, b, -b)
    return _call(spot, strike, t_, rate, carry, v_)


def trigger_distance(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
                     vol: ArrayLike) -> F64:  # fmt: skip
    """``ln(spot / trigger)`` in the (put-transformed) call's terms: 0 on the flat exercise boundary, where
    the approximation has a kink, positive where the option is exercised at once."""
    c, s_, k_, t_, r_, q_, v_ = black_scholes._arrays(call, s, k, t, r, q, vol)
    b = r_ - q_
    spot, strike = np.where(c, s_, k_), np.where(c, k_, s_)
    rate, carry = np.where(c, r_, r_ - b), np.where(c, b, -b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.asarray(np.log(spot / _trigger(strike, t_, rate, carry, v_ * v_, v_)), dtype=np.float64)


def _trigger(k: F64, t: F64, r: F64, b: F64, v2: F64, vol: F64) -> F64:
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / (beta - 1.0) * k
    b_zero = np.where(r - b > 0, np.maximum(k, r / (r - b) * k), k)
    h = -(b * t + 2.0 * vol * np.sqrt(t)) * b_zero / (b_inf - b_zero)
    return np.asarray(b_zero + (b_inf - b_zero) * (-np.expm1(h)), dtype=np.float64)


def _call(s: F64, k: F64, t: F64, r: F64, b: F64, vol: F64) -> F64:
    """American call by BS 1993 (Haug, The Complete Guide to Option Pricing Formulas, 2nd ed., 2.7.2).

    The closed form is evaluated only on the rows that need it (early exercise possible, not exercised at
    once): calls without dividends, runaway triggers and exercised rows never pay for it.
    """
    v2 = vol * vol
    european = black_scholes.price(True, s, k, t, r, r - b, vol)
    intrinsic = np.maximum(s - k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        trigger = _trigger(k, t, r, b, v2, vol)
        sv = vol * np.sqrt(t)
        runaway = np.log(trigger / (s * np.exp(b * t))) / sv > RUNAWAY_STDEVS
        never_early = (b >= r) | runaway  # no early exercise: the American call is worth the European one
        exercise_now = s >= trigger
        out = np.where(never_early, european, np.maximum(np.where(exercise_now, s - k, 0.0), european))
        need = np.nonzero(~never_early & ~exercise_now)[0]
        if len(need):
            args = (s[need], k[need], t[need], r[need], b[need], v2[need], sv[need], trigger[need])
            out[need] = np.maximum(_closed_form(*args), european[need])
    return np.asarray(np.maximum(out, intrinsic), dtype=np.float64)


def _closed_form(s: F64, k: F64, t: F64, r: F64, b: F64, v2: F64, sv: F64, trigger: F64) -> F64:
    """The approximation below its trigger; logs of S/I and S/K are taken once and shared."""
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    ln_s_i = np.log(s / trigger)
    ln_s_k = np.log(s / k)
    reflect = 2.0 * ln_s_i / sv  # d - 2 ln(I/S) / (sigma sqrt T) = d + reflect

    def phi(gamma: F64 | float, ln_s_h: F64) -> F64:
        """phi(S, T, gamma, H, I) / S**gamma, with (I/S)**kappa * N(.) in logs so large powers stay finite."""
        lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t
        d = -(ln_s_h + (b + (gamma - 0.5) * v2) * t) / sv
        kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
        second = np.exp(-kappa * ln_s_i + log_ndtr(d + reflect))
        return np.asarray(np.exp(lam) * (ndtr(d) - second), dtype=np.float64)

    # alpha * S**beta and alpha * phi(S, T, beta, I, I) share (I - K) * (S / I)**beta
    scale = (trigger - k) * np.exp(beta * ln_s_i)
    return np.asarray(
        scale * (1.0 - phi(beta, ln_s_i))
        + s * (phi(1.0, ln_s_i) - phi(1.0, ln_s_k))
        - k * (phi(0.0, ln_s_i) - phi(0.0, ln_s_k)),
        dtype=np.float64,
    )
