"""Option pricing for smelt: implied volatility and Greeks of listed options, vectorised with numpy/scipy.

* :func:`solve`: implied volatility, delta, gamma, theta (per calendar day) and vega (per vol point) of rows
  of option prices, NaN with a reason code (:data:`REASONS`) where a row cannot be solved;
* :func:`valuation` / :func:`price`: the same model forward (what the simulator prices with);
* American exercise by the Bjerksund-Stensland (1993) approximation, European by Black-Scholes-Merton.
"""

from workflows.pricing.greeks import Valuation, price, valuation
from workflows.pricing.implied import REASON_TEXT, REASONS, VOL_MAX, VOL_MIN, Solution, solve

__all__ = [
    "REASONS",
    "REASON_TEXT",
    "VOL_MAX",
    "VOL_MIN",
    "Solution",
    "Valuation",
    "price",
    "solve",
    "valuation",
]
