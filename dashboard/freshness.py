"""The marts' freshness SLA: is the newest trading day in the marts the one the calendar says should be there?

A session's data can only arrive after its close (the daily run starts at 18:30 New York and takes its time),
so a session is *due* once its close plus a grace period has passed (``SMELT_FRESHNESS_GRACE_HOURS``, 8 h by
default: midnight New York after a 16:00 close). The marts are late when their newest trading day is older
than the newest due session (decision 102). Weekends and holidays need no rule of their own: the calendar
knows no session there, so Monday morning still expects Friday.

The clock is the real time, or a pinned simulator's (just after that day's close): the dashboard's own
``SMELT_SIM_NOW``, else the one the build was made with (``build.json``'s ``sim_now``), so simulated marts
pinned to a past day are not late by the wall clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflows import calendar
from workflows.settings import Settings

DEFAULT_GRACE_HOURS = 8.0


@dataclass(frozen=True)
class Verdict:
    """One judgement: ``fresh``, the marts' newest day, the session expected, when it was due, and why."""

    fresh: bool
    newest: dt.date | None
    expected: dt.date
    due_at: dt.datetime
    message: str


@dataclass(frozen=True)
class FreshnessSla:
    """The rule's settings: the grace after a close, and the simulator's pinned day (None: the real clock)."""

    grace_hours: float = DEFAULT_GRACE_HOURS
    pinned: dt.date | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> FreshnessSla:
        return cls(settings.freshness_grace_hours, settings.simulator.now)

    def now(self) -> dt.datetime:
        if self.pinned is not None:
            return calendar.session_close(self.pinned) + dt.timedelta(minutes=1)
        return dt.datetime.now(dt.UTC)

    def expected(self, now: dt.datetime) -> dt.date:
        """The newest session due at ``now``: its close plus the grace has passed."""
        return calendar.last_completed_trading_day(now - dt.timedelta(hours=self.grace_hours))

    def judge(self, newest: dt.date | None, now: dt.datetime | None = None) -> Verdict:
        now = now or self.now()
        expected = self.expected(now)
        due = calendar.session_close(expected) + dt.timedelta(hours=self.grace_hours)
        rule = f"its close plus {self.grace_hours:g} h"
        if newest is not None and newest >= expected:
            return Verdict(
                True,
                newest,
                expected,
                due,
                f"on time: the marts hold {newest}; the newest session due is {expected}",
            )
        held = f"the marts' newest trading day is {newest}" if newest else "the marts hold no trading day"
        return Verdict(False, newest, expected, due,
                       f"late: {held}, but {expected} was due by {due:%Y-%m-%d %H:%M} UTC ({rule}); "
                       "the Runs page shows what the pipeline did")  # fmt: skip
