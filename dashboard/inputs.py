"""Validation of every value a callback receives, before any of it gets near SQL.

Dash does not check that a value is one of a dropdown's options, and a URL can say anything, so every
callback passes its inputs through these functions first. Each raises :class:`InputError` with a message
for the page (naming the control and the value, shortened) or returns the value in its canonical type.
Values that pass are still only ever *bound* as SQL parameters; these checks make sure that nonsense never
even reaches the warehouse and that the user learns which control was wrong.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
#: OCC option symbol as Polygon writes it: O:<root><yymmdd><C|P><strike x 1000, 8 digits>.
OPTION_TICKER = re.compile(r"^O:[A-Z][A-Z0-9.]{0,5}\d{6}[CP]\d{8}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_SHOWN = 40


class InputError(ValueError):
    """A control or URL value that the dashboard refuses; the message is shown on the page."""


def shown(value: Any) -> str:
    """A value as it may appear in a message: shortened, so a 10 kB paste does not fill the page."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def ticker(value: Any, allowed: Collection[str], what: str = "ticker") -> str:
    """An underlying from the snapshot's list (case-insensitive)."""
    if not isinstance(value, str) or not TICKER.match(value.strip().upper()):
        raise InputError(f"{what} {shown(value)} is not a ticker (letters, digits and '.', up to 10)")
    canonical = value.strip().upper()
    if canonical not in allowed:
        raise InputError(f"{what} {canonical} has no data in this warehouse")
    return canonical


def day(value: Any, what: str = "date") -> dt.date:
    """A calendar date written YYYY-MM-DD (or a date already)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DATE.match(value.strip()[:10]) and len(value.strip()) in (10, 19):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise InputError(f"{what} {shown(value)} is not a date (YYYY-MM-DD)")


def day_in(value: Any, allowed: Collection[dt.date], what: str = "date") -> dt.date:
    parsed = day(value, what)
    if parsed not in allowed:
        raise InputError(f"{what} {parsed} has no data for this ticker")
    return parsed


def days_in(values: Any, allowed: Collection[dt.date], what: str, limit: int) -> list[dt.date]:
    """A list of dates from ``allowed``: at most ``limit``, duplicates dropped, order kept."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v]
    if not isinstance(values, list | tuple):
        raise InputError(f"{what} {shown(values)} is not a list of dates")
    out = list(dict.fromkeys(day_in(v, allowed, what) for v in values))
    if len(out) > limit:
        raise InputError(f"{what}: at most {limit} at once (got {len(out)})")
    return out


def choice(value: Any, allowed: Mapping[str, T] | Iterable[str], what: str) -> Any:
    """One of a fixed set of options; a mapping also translates the option to its meaning."""
    options = allowed if isinstance(allowed, Mapping) else {v: v for v in allowed}
    if not isinstance(value, str | int | bool) or str(value) not in options:
        names = ", ".join(map(str, options))
        raise InputError(f"{what} {shown(value)} is not one of: {names}")
    return options[str(value)]


def number(value: Any, what: str, lo: float, hi: float, integer: bool = False) -> float:
    """A finite number in ``[lo, hi]`` (strings that spell one are accepted)."""
    try:
        parsed = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        parsed = math.nan
    if not math.isfinite(parsed) or not lo <= parsed <= hi or (integer and parsed != int(parsed)):
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{what} {shown(value)} is not {kind} between {lo:g} and {hi:g}")
    return int(parsed) if integer else parsed


def option_ticker(value: Any, underlying: str | None = None) -> str:
    if not isinstance(value, str) or not OPTION_TICKER.match(value):
        raise InputError(f"option {shown(value)} is not an OCC option symbol like O:AAPL261218C00230000")
    if underlying is not None and not value[2:].startswith(underlying.replace(".", "")):
        raise InputError(f"option {value} is not on {underlying}")
    return value


MAX_LEGS = 8
MAX_QUANTITY = 100


def legs(value: Any, underlying: str) -> list[tuple[str, int]]:
    """Strategy legs: ``[(option_ticker, signed quantity), ...]`` from the store or the URL.

    The URL form is ``O:AAPL261218C00230000*2,O:AAPL261218P00220000*-1``; the store form is a list of
    ``{"option": ..., "quantity": ...}``. Legs on the same contract are summed; zero quantities dropped.
    """
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        items: list[Any] = []
        for part in value.split(","):
            option, _, quantity = part.partition("*")
            items.append({"option": option, "quantity": quantity or "1"})
    elif isinstance(value, list):
        items = value
    else:
        raise InputError(f"legs {shown(value)} are not a list of legs")
    if len(items) > MAX_LEGS:
        raise InputError(f"at most {MAX_LEGS} legs (got {len(items)})")
    totals: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"leg {shown(item)} is not an option and a quantity")
        option = option_ticker(item.get("option"), underlying)
        quantity = int(
            number(item.get("quantity"), f"quantity of {option}", -MAX_QUANTITY, MAX_QUANTITY, True)
        )
        totals[option] = totals.get(option, 0) + quantity
    return [(option, q) for option, q in totals.items() if q != 0]


def encode_legs(items: Iterable[tuple[str, int]]) -> str:
    return ",".join(f"{option}*{quantity}" for option, quantity in items)
