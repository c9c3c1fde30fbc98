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
        opens = calendar.session_open(day)
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


#: Polygon's spelling of the holidays whose exchange_calendars rule names differ (names only: the dates
#: always come from :func:`workflows.calendar.holiday_names`).
POLYGON_NAMES = {
    "Dr. Martin Luther King Jr. Day": "Martin Luther King, Jr. Day",
    "President's Day": "Washington's Birthday",
    "Juneteenth National Independence Day": "Juneteenth",
    "July 4th": "Independence Day",
}
#: An early close is named after the closure it adjoins (July 3, the day after Thanksgiving, December 24).
EARLY_CLOSE_REACH = dt.timedelta(days=4)


def holiday_names(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """NYSE closures from ``start`` to ``end`` with Polygon's names (ad-hoc ones: "Market closed")."""
    names = calendar.holiday_names(start, end)
    return {day: POLYGON_NAMES.get(name, name) for day, name in names.items()}


def early_close_name(day: dt.date, names: dict[dt.date, str]) -> str:
    """The name of the holiday nearest to an early close (a day after wins a tie), as Polygon names it."""
    near = [d for d in names if abs(d - day) <= EARLY_CLOSE_REACH]
    if not near:
        return "Early close"
    return names[min(near, key=lambda d: (abs(d - day), d < day))]


def _iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def upcoming(now: dt.datetime, last_day: dt.date, days: int = 365) -> list[dict[str, Any]]:
    """The body of ``/v1/marketstatus/upcoming``: closures and early closes from ``now`` on."""
    start = now.astimezone(NEW_YORK).date()
    end = min(start + dt.timedelta(days=days), last_day)
    if end < start:
        return []
    # A few days either side, so that an early close at either end of the window still finds its holiday.
    names = holiday_names(start - EARLY_CLOSE_REACH, min(end + EARLY_CLOSE_REACH, last_day))
    rows: list[tuple[dt.date, dict[str, Any]]] = []
    for day in calendar.holidays(start, end):
        name = names.get(day, "Market closed")
        rows.append((day, {"name": name, "date": day.isoformat(), "status": "closed"}))
    for day in calendar.early_closes(start, end):
        rows.append(
            (
                day,
                {
                    "name": early_close_name(day, names),
                    "date": day.isoformat(),
                    "status": "early-close",
                    "open": _iso_z(calendar.session_open(day)),
                    "close": _iso_z(calendar.session_close(day)),
                },
            )
        )
    rows.sort(key=lambda r: r[0])
    return [{"exchange": ex, **row} for _, row in rows for ex in ("NYSE", "NASDAQ")]
