"""Counter-based random numbers: every draw is a pure function of (seed, stream, ticker, day, ...).

A stateful generator would make a value depend on how many draws came before it, so the price of AAPL on a
day would change with the request order, the universe size or the date range asked for. Hashing the
coordinates of each draw (splitmix64, vectorised in numpy) removes that coupling: any slice of the market can
be computed alone, in any order, and always gives the same numbers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1


def _as_u64(value: Any) -> U64:
    """Integers (possibly negative, possibly int64 arrays) as wrapped uint64 arrays."""
    if isinstance(value, int):
        return np.asarray(value & _MASK, dtype=np.uint64)
    arr = np.asarray(value)
    if arr.dtype == np.uint64:
        return arr
    return arr.astype(np.int64).astype(np.uint64)


def _mix(x: U64) -> U64:
    """The splitmix64 finaliser: a bijection on 64 bits with good avalanche."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def hash64(*parts: Any) -> U64:
    """Hash integer coordinates (scalars or broadcastable arrays) to uint64."""
    with np.errstate(over="ignore"):
        h = _mix(_as_u64(parts[0]))
        for part in parts[1:]:
            h = _mix(h ^ _as_u64(part))
    return np.asarray(h, dtype=np.uint64)


def uniform(*parts: Any) -> F64:
    """Uniform draws in the open interval (0, 1)."""
    h = hash64(*parts)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normal(*parts: Any) -> F64:
    """Standard normal draws (inverse CDF of :func:`uniform`)."""
    return np.asarray(ndtri(uniform(*parts)), dtype=np.float64)


def text_key(text: str) -> int:
    """A stable 64-bit key for a string (tickers), independent of Python's salted ``hash``."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
