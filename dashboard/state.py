"""The view's state in the URL query (``?ticker=AAPL&date=2026-11-27&expiry=…``), so a view can be shared.

Only known keys are read, each value is cut to a bounded length, and nothing read here is trusted: pages
validate every value with ``dashboard.inputs`` before using it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

#: Every key any page writes, in the order they appear in a URL.
KEYS = (
    "ticker", "date", "expiry", "expiries", "range", "adj", "overlays", "money", "dte", "band", "metric",
    "x", "view", "legs", "rate",
)  # fmt: skip
#: Keys that follow the user from page to page through the navigation bar.
SHARED = ("ticker", "date")
MAX_VALUE = 1000


def parse(search: str | None) -> dict[str, str]:
    """Known keys of a query string (first value of each, at most ``MAX_VALUE`` characters)."""
    if not search:
        return {}
    raw = parse_qs(search.lstrip("?")[: 8 * MAX_VALUE], keep_blank_values=False)
    return {key: raw[key][0][:MAX_VALUE] for key in KEYS if key in raw}


def encode(state: Mapping[str, Any]) -> str:
    """A query string of the non-empty values (lists joined by commas), keys in a stable order."""
    pairs = []
    for key in KEYS:
        value = state.get(key)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "1" if value else "0"
        pairs.append((key, str(value)))
    return "?" + urlencode(pairs, safe=",:*") if pairs else ""


def shared(search: str | None) -> str:
    """The part of a query that the navigation bar carries to the other pages."""
    state = parse(search)
    return encode({key: state[key] for key in SHARED if key in state})
