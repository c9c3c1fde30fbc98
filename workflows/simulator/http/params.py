"""Query parameters as the API reads them; a bad one is a 400 in the API's own error shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from workflows.calendar import NEW_YORK


class ApiError(Exception):
    """An error answer: 400 (bad parameter) and 404 (not found) come out in the API's shapes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"Could not parse the {name} parameter {value!r}: expected YYYY-MM-DD") from None


def date_or_ms(value: str, name: str) -> dt.date:
    """A date, or Unix milliseconds (read as a New York date), as the aggregates path accepts."""
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, NEW_YORK).date()
    return parse_date(value, name)


def flag(params: dict[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false, got {value!r}")


def page_size(params: dict[str, str], default: int, maximum: int) -> int:
    value = params.get("limit")
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"limit must be an integer, got {value!r}") from None
    if not 1 <= number <= maximum:
        raise ApiError(400, f"limit must be between 1 and {maximum}, got {number}")
    return number


def choice(params: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The parameter, one of ``choices`` (the first is the default)."""
    value = params.get(name, choices[0])
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "": np.equal,
    ".gt": np.greater,
    ".gte": np.greater_equal,
    ".lt": np.less,
    ".lte": np.less_equal,
}


def range_filter(params: dict[str, str], name: str, values: Any, parse: Callable[[str], Any]) -> Any:
    """Mask of ``values`` that meet ``name``, ``name.gt``, ``name.gte``, ``name.lt`` and ``name.lte``."""
    mask = np.ones(len(values), dtype=bool)
    for suffix, op in _OPS.items():
        raw = params.get(name + suffix)
        if raw is not None:
            try:
                bound = parse(raw)
            except (ValueError, ApiError):
                raise ApiError(400, f"cannot parse {name + suffix}={raw!r}") from None
            mask &= op(values, bound)
    return mask


def epoch_days(day: dt.date) -> int:
    """Days since 1970-01-01, the simulator's ordinal for dividends and yield curves."""
    return (day - dt.date(1970, 1, 1)).days
