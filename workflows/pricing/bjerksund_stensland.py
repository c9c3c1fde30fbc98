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
    """American call by BS 1993 (Haug, The Complete Guide to Option Pricing Formulas, 2nd ed., 2.7.2)."""
    v2 = vol * vol
    european = black_scholes.price(True, s, k, t, r, r - b, vol)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
        trigger = _trigger(k, t, r, b, v2, vol)
        sv = vol * np.sqrt(t)

        def phi(gamma: F64 | float, big_h: F64) -> F64:
            """phi(S, T, gamma, H, I) / S**gamma * exp(-lambda) is split out so large powers stay finite."""
            lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t
            d = -(np.log(s / big_h) + (b + (gamma - 0.5) * v2) * t) / sv
            kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
            log_ratio = np.log(trigger / s)
            second = np.exp(kappa * log_ratio + log_ndtr(d - 2.0 * log_ratio / sv))
            return np.asarray(np.exp(lam) * (ndtr(d) - second), dtype=np.float64)

        # alpha * S**beta and alpha * phi(S, T, beta, I, I) share exp(beta * ln(S / I)) * (I - K)
        lam_beta = (-r + beta * b + 0.5 * beta * (beta - 1.0) * v2) * t
        scale = (trigger - k) * np.exp(beta * np.log(s / trigger))
        d_beta = -(np.log(s / trigger) + (b + (beta - 0.5) * v2) * t) / sv
        kappa_beta = 2.0 * b / v2 + (2.0 * beta - 1.0)
        log_ratio = np.log(trigger / s)
        phi_beta = np.exp(lam_beta) * (
            ndtr(d_beta) - np.exp(kappa_beta * log_ratio + log_ndtr(d_beta - 2.0 * log_ratio / sv))
        )
        value = (
            scale
            - scale * phi_beta
            + s * phi(1.0, trigger)
            - s * phi(1.0, k)
            - k * phi(0.0, trigger)
            + k * phi(0.0, k)
        )
        runaway = np.log(trigger / (s * np.exp(b * t))) / sv > RUNAWAY_STDEVS
    exercise_now = s >= trigger
    never_early = (b >= r) | runaway  # no early exercise: the American call is worth the European one
    approximated = np.maximum(np.where(exercise_now, s - k, value), european)
    out = np.where(never_early, european, approximated)
    return np.asarray(np.maximum(out, np.maximum(s - k, 0.0)), dtype=np.float64)
