"""The simulator's clock: what "now" means for a request, and the market-status endpoints built on it.

The real snapshot endpoint only answers for the present. Making "now" settable (per app, or per request with
``X-Sim-Now``) lets a client replay any past day and get that day's end-of-day chain, which is what the
pipeline's backfills and tests need. A date means that day's close; a datetime is taken as given (New York
time when it has no offset). The data of a request is the last session completed at its "now".
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from workflows import calendar
from workflows.calendar import NEW_YORK

UTC = dt.UTC


class ClockError(ValueError):
    """A "now" the simulator cannot serve (unparseable, or outside the simulated range)."""


@lru_cache(maxsize=1024)
def close_of(day: dt.date) -> dt.datetime:
    """The close of ``day`` (13:00 on early closes); 16:00 New York for a day without a session. Cached:
    every request's ``X-Sim-Now`` names a day, and the calendar's answer costs about a millisecond."""
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


@lru_cache(maxsize=1024)
def market_day(now: dt.datetime) -> dt.date:
    """The session whose end-of-day data is current at ``now`` (cached: every request asks, and the
    calendar's answer costs about a millisecond, as much as serving a cached range)."""
    return calendar.last_completed_trading_day(now)
