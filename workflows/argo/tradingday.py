"""Which trading day a scheduled run is for, and the trading days of a backfill range.

The CronWorkflow fires on weekdays after the close; the exchange calendar, not the cron expression, decides
whether that day was a session. A holiday is a clean skip with its name, never a failure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflows import calendar

AUTO = "auto"


class TradingDayError(ValueError):
    """The arguments cannot name a day (bad format, beyond the exchange calendar): exit code 2."""


@dataclass(frozen=True)
class Resolution:
    trade_date: dt.date
    trading: bool
    reason: str


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise TradingDayError(f"expected a date like 2026-11-24 or '{AUTO}', got {text!r}") from None


def _parse_time(text: str) -> dt.datetime:
    """Argo's {{workflow.scheduledTime}} is RFC 3339; `argo cron backfill` passes what --format says."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise TradingDayError(
            f"expected an RFC 3339 time like 2026-11-24T18:30:00-05:00, got {text!r}"
        ) from None
    if when.tzinfo is None:
        raise TradingDayError(f"scheduled time {text!r} has no time zone; give an offset or Z")
    return when


def _closed_reason(day: dt.date) -> str:
    if day.weekday() >= 5:
        return f"{day} is a {day:%A}: NYSE is closed"
    name = calendar.holiday_names(day, day).get(day, "market closed")
    return f"{day} is an NYSE holiday ({name})"


def _check_horizon(day: dt.date) -> None:
    try:
        calendar.ensure_known(day)
    except calendar.CalendarRangeError as exc:
        raise TradingDayError(str(exc)) from None


def resolve(date: str, scheduled: str | None = None, now: dt.datetime | None = None) -> Resolution:
    """The day a run covers: the date given, or (``auto``) the session of the scheduled time.

    ``auto`` takes the New York calendar day of ``scheduled`` (of ``now`` when empty): a session whose close
    has passed is run; a closed day, or a session that has not closed yet, is skipped with the reason.
    """
    if date.strip().lower() != AUTO:
        day = _parse_day(date.strip())
        _check_horizon(day)
        if calendar.is_trading_day(day):
            return Resolution(day, True, f"{day} is an NYSE session")
        return Resolution(day, False, _closed_reason(day))
    when = _parse_time(scheduled) if scheduled and scheduled.strip() else (now or dt.datetime.now(dt.UTC))
    day = when.astimezone(calendar.NEW_YORK).date()
    _check_horizon(day)
    if not calendar.is_trading_day(day):
        return Resolution(day, False, _closed_reason(day))
    close = calendar.session_close(day)
    if when < close:
        local = close.astimezone(calendar.NEW_YORK)
        return Resolution(day, False, f"the {day} session has not closed yet (closes {local:%H:%M} New York)")
    return Resolution(day, True, f"{day} is an NYSE session, closed at the scheduled time")


def days(start: str, end: str) -> list[dt.date]:
    """The sessions from ``start`` to ``end``, both included."""
    first, last = _parse_day(start), _parse_day(end)
    if last < first:
        raise TradingDayError(f"end {last} is before start {first}")
    _check_horizon(first)
    _check_horizon(last)
    return calendar.trading_days(first, last)
