"""The simulator's clock: what "now" means for a request, and the market-status endpoints built on it.

The real snapshot endpoint only answers for the present. Making "now" settable (per app, or per request with
``X-Sim-Now``) lets a client replay any past day and get that day's end-of-day chain, which is what the
pipeline's backfills and tests need. A date means that day's close; a datetime is taken as given (New York
time when it has no offset). The data of a request is the last session completed at its "now".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflows import calendar
from workflows.calendar import NEW_YORK

UTC = dt.UTC


class ClockError(ValueError):
    """A "now" the simulator cannot serve (unparseable, or outside the simulated range)."""


def close_of(day: dt.date) -> dt.datetime:
    """The close of ``day`` (13:00 on early closes); 16:00 New York for a day without a session."""
    try:
        session = calendar.is_trading_day(day)
    except Exception:  # outside the calendar's range: the app rejects such a "now" with a 400
        session = False
    if session:
        return calendar.session_close(day).astimezone(UTC)
    return dt.datetime.combine(day, dt.time(16), NEW_YORK).astimezone(UTC)


def parse_now(value: str | dt.date | dt.datetime) -> dt.datetime:
    """``2026-11-24`` (that day's close), an ISO datetime, a date or a datetime -> an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return close_of(value)
    else:
        text = value.strip()
        try:
            if len(text) == 10:
                return close_of(dt.date.fromisoformat(text))
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ClockError(f"cannot parse {value!r}: expected an ISO date or datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=NEW_YORK)
    return moment.astimezone(UTC)


def default_now(real: dt.datetime | None = None) -> dt.datetime:
    """The close of the last session completed at the real time (the simulator's default "now")."""
    return close_of(calendar.last_completed_trading_day(real or dt.datetime.now(UTC)))


def market_day(now: dt.datetime) -> dt.date:
    """The session whose end-of-day data is current at ``now``."""
    return calendar.last_completed_trading_day(now)


def market_status(now: dt.datetime) -> dict[str, Any]:
    """The body of ``/v1/marketstatus/now`` at ``now``."""
    local = now.astimezone(NEW_YORK)
    day = local.date()
    market, early, after = "closed", False, False
    if calendar.is_trading_day(day):
        opens = dt.datetime.combine(day, dt.time(9, 30), NEW_YORK)
        closes = calendar.session_close(day)
        if opens <= now < closes:
            market = "open"
        elif dt.datetime.combine(day, dt.time(4), NEW_YORK) <= now < opens:
            market, early = "extended-hours", True
        elif closes <= now < dt.datetime.combine(day, dt.time(20), NEW_YORK):
            market, after = "extended-hours", True
    weekend = local.weekday() >= 5
    return {
        "market": market,
        "earlyHours": early,
        "afterHours": after,
        "serverTime": local.isoformat(timespec="seconds"),
        "exchanges": {"nyse": market, "nasdaq": market, "otc": market},
        "currencies": {"fx": "closed" if weekend else "open", "crypto": "open"},
    }


def holiday_name(day: dt.date) -> str:
    """The usual name of an NYSE closure or early close (the dates come from the calendar)."""
    m, d, wd = day.month, day.day, day.weekday()
    rules = (
        (m == 1 and d <= 2, "New Year's Day"),
        (m == 12 and d == 31, "New Year's Day"),
        (m == 1 and wd == 0 and 15 <= d <= 21, "Martin Luther King, Jr. Day"),
        (m == 2 and wd == 0 and 15 <= d <= 21, "Washington's Birthday"),
        (m in (3, 4) and wd == 4, "Good Friday"),
        (m == 5 and wd == 0 and d >= 25, "Memorial Day"),
        (m == 6 and 18 <= d <= 20, "Juneteenth"),
        (m == 7 and 3 <= d <= 5, "Independence Day"),
        (m == 9 and wd == 0 and d <= 7, "Labor Day"),
        (m == 11 and 22 <= d <= 29, "Thanksgiving"),
        (m == 12 and 24 <= d <= 26, "Christmas"),
    )
    return next((name for hit, name in rules if hit), "Market Closed")


def _iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def upcoming(now: dt.datetime, last_day: dt.date, days: int = 365) -> list[dict[str, Any]]:
    """The body of ``/v1/marketstatus/upcoming``: closures and early closes from ``now`` on."""
    start = now.astimezone(NEW_YORK).date()
    end = min(start + dt.timedelta(days=days), last_day)
    if end < start:
        return []
    rows: list[tuple[dt.date, dict[str, Any]]] = []
    for day in calendar.holidays(start, end):
        rows.append((day, {"name": holiday_name(day), "date": day.isoformat(), "status": "closed"}))
    for day in calendar.early_closes(start, end):
        opens = dt.datetime.combine(day, dt.time(9, 30), NEW_YORK)
        rows.append(
            (
                day,
                {
                    "name": holiday_name(day),
                    "date": day.isoformat(),
                    "status": "early-close",
                    "open": _iso_z(opens),
                    "close": _iso_z(calendar.session_close(day)),
                },
            )
        )
    rows.sort(key=lambda r: r[0])
    return [{"exchange": ex, **row} for _, row in rows for ex in ("NYSE", "NASDAQ")]
