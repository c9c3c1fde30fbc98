"""NYSE trading days, holidays and early closes, from exchange_calendars (maintained, not a hand list)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")
_FIRST_DAY = "2000-01-03"


class CalendarRangeError(ValueError):
    """A date outside the span the exchange calendar knows (holidays are published about a year ahead)."""


@lru_cache(maxsize=1)
def _xnys() -> Any:
    return xcals.get_calendar("XNYS", start=_FIRST_DAY)


def first_known_day() -> dt.date:
    return _xnys().first_session.date()  # type: ignore[no-any-return]


def last_known_day() -> dt.date:
    return _xnys().last_session.date()  # type: ignore[no-any-return]


def ensure_known(day: dt.date) -> dt.date:
    """``day``, or CalendarRangeError when the calendar cannot say whether NYSE traded on it."""
    first, last = first_known_day(), last_known_day()
    if not first <= day <= last:
        raise CalendarRangeError(
            f"{day} is outside the NYSE calendar smelt knows ({first} .. {last}): exchange holidays are "
            "published about a year ahead; choose a date in that range"
        )
    return day


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(ensure_known(day))


def is_trading_day(day: dt.date) -> bool:
    return bool(_xnys().is_session(_ts(day)))


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Sessions from ``start`` to ``end``, both included (either may be a non-trading day)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return [ts.date() for ts in _xnys().sessions_in_range(_ts(start), _ts(end))]


def previous_trading_days(end: dt.date, count: int) -> list[dt.date]:
    """The ``count`` sessions ending at ``end`` (or the last session before it), oldest first."""
    cal = _xnys()
    last = cal.date_to_session(_ts(end), direction="previous")
    return [ts.date() for ts in cal.sessions_window(last, -count)]


def holidays(start: dt.date, end: dt.date) -> list[dt.date]:
    """Weekdays in the range on which NYSE is closed."""
    weekdays = pd.bdate_range(_ts(start), _ts(end))
    sessions = set(_xnys().sessions_in_range(_ts(start), _ts(end)))
    return [ts.date() for ts in weekdays if ts not in sessions]


def session_open(day: dt.date) -> dt.datetime:
    """The open of a session in UTC (09:30 New York)."""
    if not is_trading_day(day):
        raise ValueError(f"{day} is not an NYSE trading day")
    opened: dt.datetime = _xnys().session_open(_ts(day)).to_pydatetime()
    return opened


def session_is_open(now: dt.datetime) -> bool:
    """Whether NYSE's regular session is running at ``now`` (open <= now < close, early closes included)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(NEW_YORK).date()
    return is_trading_day(today) and session_open(today) <= now < session_close(today)


def holiday_names(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Named NYSE holidays (weekday closures) in the range, from the calendar's own rules."""
    cal = _xnys()
    names: dict[dt.date, str] = {}
    rules = cal.regular_holidays.holidays(_ts(start), _ts(end), return_name=True)
    for ts, name in rules.items():
        if ts.weekday() < 5:  # a rule's date on a weekend is observed on a weekday, listed below
            names[ts.date()] = str(name)
    for day in holidays(start, end):
        names.setdefault(day, "Market closed")
    return names


def session_close(day: dt.date) -> dt.datetime:
    """The close of a session in UTC: 16:00 New York, or 13:00 on an early close."""
    if not is_trading_day(day):
        raise ValueError(f"{day} is not an NYSE trading day")
    close: dt.datetime = _xnys().session_close(_ts(day)).to_pydatetime()
    return close


def last_completed_trading_day(now: dt.datetime | None = None) -> dt.date:
    """The newest session whose close has passed at ``now`` (default: the current time)."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(NEW_YORK).date()
    if is_trading_day(today) and now >= session_close(today):
        return today
    cal = _xnys()
    return cal.date_to_session(_ts(today - dt.timedelta(days=1)), direction="previous").date()  # type: ignore[no-any-return]
