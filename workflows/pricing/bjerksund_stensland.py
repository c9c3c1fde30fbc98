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


#: Which smooth piece of the approximation prices a row: the piecewise model has kinks where they meet.
EUROPEAN, EXERCISED, CLOSED_FORM = 0, 1, 2


def price(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
          vol: ArrayLike) -> F64:  # fmt: skip
    """The American price; ``t`` and ``vol`` must be positive."""
    return pieces(call, s, k, t, r, q, vol)[0]


def pieces(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
           vol: ArrayLike) -> tuple[F64, NDArray[np.int64]]:  # fmt: skip
    """The American price and the piece it comes from (:data:`EUROPEAN`, :data:`EXERCISED` or
    :data:`CLOSED_FORM`), so that Greeks can differentiate that one smooth piece, never across a kink."""
    spot, strike, t_, rate, carry, v_ = _transformed(call, s, k, t, r, q, vol)
    return _call(spot, strike, t_, rate, carry, v_)


def closed_form(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
                vol: ArrayLike) -> F64:  # fmt: skip
    """The approximation's closed form alone, without the floors at intrinsic and European value, and
    continued past its trigger: a smooth function of every input, whose derivatives are the Greeks of the
    rows :func:`pieces` prices by it. Meaningful only where early exercise is possible."""
    spot, strike, t_, rate, carry, v_ = _transformed(call, s, k, t, r, q, vol)
    v2 = v_ * v_
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        trigger = _trigger(strike, t_, rate, carry, v2, v_)
        return _closed_form(spot, strike, t_, rate, carry, v2, v_ * np.sqrt(t_), trigger)


def _transformed(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
                 vol: ArrayLike) -> tuple[F64, F64, F64, F64, F64, F64]:  # fmt: skip
    c, s_, k_, t_, r_, q_, v_ = black_scholes._arrays(call, s, k, t, r, q, vol)
    b = r_ - q_
    # put-call transformation: a put is a call on the strike, struck at the spot, with rate r - b, carry -b
    spot, strike = np.where(c, s_, k_), np.where(c, k_, s_)
    return spot, strike, t_, np.where(c, r_, r_ - b), np.where(c, b, -b), v_


def trigger_distance(call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
                     vol: ArrayLike) -> F64:  # fmt: skip
    """``ln(spot / trigger)`` in the (put-transformed) call's terms: 0 on the flat exercise boundary, where
    the approximation has a kink, positive where the option is exercised at once."""
    spot, strike, t_, rate, carry, v_ = _transformed(call, s, k, t, r, q, vol)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.asarray(np.log(spot / _trigger(strike, t_, rate, carry, v_ * v_, v_)), dtype=np.float64)


def _trigger(k: F64, t: F64, r: F64, b: F64, v2: F64, vol: F64) -> F64:
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / (beta - 1.0) * k
    b_zero = np.where(r - b > 0, np.maximum(k, r / (r - b) * k), k)
    h = -(b * t + 2.0 * vol * np.sqrt(t)) * b_zero / (b_inf - b_zero)
    return np.asarray(b_zero + (b_inf - b_zero) * (-np.expm1(h)), dtype=np.float64)


def _call(s: F64, k: F64, t: F64, r: F64, b: F64, vol: F64) -> tuple[F64, NDArray[np.int64]]:
    """American call by BS 1993 (Haug, The Complete Guide to Option Pricing Formulas, 2nd ed., 2.7.2), and
    the piece each price comes from.

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
        exercise_now = ~never_early & (s >= trigger)
        out = np.where(exercise_now, np.maximum(s - k, european), european)
        piece = np.where(exercise_now & (s - k >= european), EXERCISED, EUROPEAN)
        need = np.nonzero(~never_early & ~exercise_now)[0]
        if len(need):
            args = (s[need], k[need], t[need], r[need], b[need], v2[need], sv[need], trigger[need])
            closed = _closed_form(*args)
            above = closed > european[need]
            out[need] = np.where(above, closed, european[need])
            piece[need[above]] = CLOSED_FORM
    floored = intrinsic > out
    piece[floored] = EXERCISED
    return np.asarray(np.where(floored, intrinsic, out), dtype=np.float64), piece.astype(np.int64)


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
