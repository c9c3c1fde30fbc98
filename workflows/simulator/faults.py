"""Fault injection: the failures a Polygon client meets in production, on demand and reproducibly.

Share-based faults (429, 5xx, HTML 504, truncated bodies) are drawn from a hash of (seed, method+path+query,
attempt number), so a run is repeatable, and a request that already failed ``max_consecutive`` times in a row
always succeeds next: a client with bounded retries is guaranteed to get through any storm. The other faults
(latency, a ``next_url`` that loops, dropped or retyped fields) are deterministic switches.

Header syntax (``X-Sim-Faults``, also accepted by :meth:`Faults.parse` and ``serve``): comma-separated
``key=value`` items; list values separated by ``|``; booleans as bare keys or ``=1/true``; ``none`` turns
every fault off. Example: ``rate_429=0.5,retry_after=2,max_consecutive=3,drop=open_interest|fmv,
retype=strike_price:str``.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from workflows.simulator import rng

#: Failure kinds in the order their shares are stacked on the unit interval.
FAILURES = ("rate_429", "error_5xx", "html_504", "truncate")
RETYPES = ("str", "int", "float", "null", "bool")
S_FAULT = 41
_ALIASES = {
    "429": "rate_429",
    "5xx": "error_5xx",
    "504": "html_504",
    "latency": "latency_ms",
    "loop": "next_url_loop",
    "max": "max_consecutive",
}


class FaultsError(ValueError):
    """An invalid fault specification (the message says which item)."""


@dataclass(frozen=True)
class Faults:
    """What to break. Shares are probabilities per request in [0, 1]."""

    rate_429: float = 0.0  # share of 429 Too Many Requests
    retry_after: float | None = None  # seconds sent in Retry-After with each 429 (None: no header)
    empty_429: bool = False  # 429 with an empty body instead of the JSON error
    error_5xx: float = 0.0  # share of JSON 500/502/503
    html_504: float = 0.0  # share of nginx-style HTML 504 pages
    truncate: float = 0.0  # share of 200s whose JSON body is cut in half
    latency_ms: float = 0.0  # added to every response
    next_url_loop: bool = False  # the last page's next_url points back at itself
    drop: tuple[str, ...] = ()  # field names removed from result items (at any depth)
    retype: tuple[tuple[str, str], ...] = ()  # (field, type) pairs: the field's value changes type
    field_share: float = 1.0  # share of result items that drop/retype touch
    max_consecutive: int = 3  # never more failures than this in a row for one path+query
    paths: tuple[str, ...] = ()  # only paths starting with one of these (empty: every path)
    seed: int | None = None  # seed of the fault draws (None: the app's seed)

    def __post_init__(self) -> None:
        for name in (*FAILURES, "field_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultsError(f"{name}={value} is not a share between 0 and 1")
        if self.max_consecutive < 0 or self.latency_ms < 0:
            raise FaultsError("max_consecutive and latency_ms must not be negative")
        if self.retry_after is not None and self.retry_after < 0:
            raise FaultsError("retry_after must not be negative")
        for name, kind in self.retype:
            if kind not in RETYPES:
                raise FaultsError(f"retype={name}:{kind}: type must be one of {', '.join(RETYPES)}")

    @property
    def failure_share(self) -> float:
        return min(1.0, float(sum(getattr(self, k) for k in FAILURES)))

    @property
    def active(self) -> bool:
        return bool(self.failure_share or self.latency_ms or self.next_url_loop or self.drop or self.retype)

    def applies_to(self, path: str) -> bool:
        return not self.paths or any(path.startswith(p) for p in self.paths)

    @classmethod
    def parse(cls, text: str, base: Faults | None = None) -> Faults:
        """Parse the header syntax; fields given override ``base`` (``none`` resets everything)."""
        base = base or cls()
        text = text.strip()
        if text.lower() in ("", "none", "off", "0"):
            return cls() if text else base
        changes: dict[str, Any] = {}
        lists: dict[str, list[Any]] = {}
        known = {f.name for f in dataclasses.fields(cls)}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name = _ALIASES.get(name.strip(), name.strip())
            value = value.strip()
            if name not in known:
                raise FaultsError(f"unknown fault {name!r} (known: {', '.join(sorted(known))})")
            try:
                if name in ("drop", "paths"):
                    lists.setdefault(name, []).extend(v for v in value.split("|") if v)
                elif name == "retype":
                    for pair in filter(None, value.split("|")):
                        field_name, _, kind = pair.partition(":")
                        lists.setdefault(name, []).append((field_name, kind or "str"))
                elif name in ("empty_429", "next_url_loop"):
                    changes[name] = not sep or value.lower() in ("1", "true", "yes", "on")
                elif name in ("max_consecutive", "seed"):
                    changes[name] = int(value)
                elif name == "retry_after":
                    changes[name] = None if value.lower() in ("", "none") else float(value)
                else:
                    changes[name] = float(value)
            except ValueError:
                raise FaultsError(f"cannot read fault item {item!r}") from None
        changes.update({k: tuple(v) for k, v in lists.items()})
        return dataclasses.replace(base, **changes)

    def to_header(self) -> str:
        """The header form of these faults (only non-default fields)."""
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name == "retype":
                out.append("retype=" + "|".join(f"{a}:{b}" for a, b in value))
            elif isinstance(value, tuple):
                out.append(f"{f.name}=" + "|".join(value))
            elif isinstance(value, bool):
                out.append(f"{f.name}={'true' if value else 'false'}")
            else:
                out.append(f"{f.name}={value:g}" if isinstance(value, float) else f"{f.name}={value}")
        return ",".join(out) or "none"


class FaultPlan:
    """Per-app memory of attempts and consecutive failures for each request key."""

    def __init__(self, seed: int, size: int = 100_000) -> None:
        self.seed = seed
        self.size = size
        self._state: OrderedDict[str, list[int]] = OrderedDict()

    def decide(self, faults: Faults, key: str) -> str | None:
        """The failure kind for this attempt at ``key``, or None to answer normally."""
        total = faults.failure_share
        if total <= 0.0 or faults.max_consecutive <= 0:
            return None
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = [0, 0]
            if len(self._state) > self.size:
                self._state.popitem(last=False)
        else:
            self._state.move_to_end(key)
        attempt = state[0]
        state[0] += 1
        if state[1] >= faults.max_consecutive:
            state[1] = 0
            return None
        seed = self.seed if faults.seed is None else faults.seed
        u = float(rng.uniform(seed, S_FAULT, rng.text_key(key), attempt))
        edge = 0.0
        for kind in FAILURES:
            edge += getattr(faults, kind)
            if u < edge:
                state[1] += 1
                return kind
        state[1] = 0
        return None

    def pick(self, key: str, choices: tuple[int, ...]) -> int:
        """A deterministic choice among ``choices`` for this key's latest attempt (e.g. 500/502/503)."""
        attempt = self._state.get(key, [0, 0])[0]
        return choices[int(rng.hash64(self.seed, S_FAULT + 1, rng.text_key(key), attempt)) % len(choices)]
