"""Which path each day of a run takes, decided once per run at one clock: the plan the ingest steps follow.

A day's option chain comes from the end-of-day snapshot when the source's snapshot still shows that day's
close; else, in the embedded demo, from the in-process simulator's snapshot replayed at that day's close when
the day is among the latest ``SMELT_SIM_DAILY_RUNS`` sessions (what a month of daily runs would have landed:
decision 107); else from the vendor's flat files when they can be read (flat-file keys set, or the embedded
simulator's local endpoint) and the day's files are published; else from the REST backfill path (contracts
as of the day, one range request per contract). Each decision carries its reason, for the log and for a
person asking why a day was fetched the way it was (decision 67).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from workflows import calendar
from workflows.settings import Settings

OptionsPath = Literal["snapshot", "replay", "backfill", "flatfiles"]


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    path: OptionsPath
    reason: str


@dataclass(frozen=True)
class Plan:
    """One decision per day, all taken at ``now`` (the source's clock when the plan was made)."""

    now: dt.datetime
    days: tuple[DayPlan, ...]

    def path(self, day: dt.date) -> OptionsPath:
        return next(p.path for p in self.days if p.day == day)

    def days_on(self, path: OptionsPath) -> list[dt.date]:
        """The days that take ``path``, in order."""
        return [p.day for p in self.days if p.path == path]


def trading_days_of(step: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """The sessions from ``start`` to ``end``; none is a permanent error of ``step`` naming the range."""
    from workflows.steps.errors import StepError

    days = calendar.trading_days(start, end)
    if not days:
        raise StepError(f"{step} {start}..{end}: no trading days in the range", retryable=False)
    return days


def source_now(settings: Settings) -> dt.datetime:
    """The source's clock: the real time, or the simulator's own (``SMELT_SIM_NOW``: just after that day's
    close), which a served simulator must be started with too."""
    if settings.source == "simulator" and settings.simulator.now is not None:
        return calendar.session_close(settings.simulator.now) + dt.timedelta(minutes=1)
    return dt.datetime.now(dt.UTC)


def snapshot_is_end_of_day(day: dt.date, now: dt.datetime) -> bool:
    """Polygon's chain snapshot shows ``day``'s close only between that close and the next open."""
    if not calendar.is_trading_day(day) or now < calendar.session_close(day):
        return False
    return calendar.last_completed_trading_day(now) == day and not calendar.session_is_open(now)


def uses_embedded_simulator(settings: Settings) -> bool:
    """The simulator runs inside this process, so a step may set its clock (a served one has its own)."""
    return settings.source == "simulator" and not settings.simulator.url


def replayed_days(settings: Settings, now: dt.datetime) -> frozenset[dt.date]:
    """The sessions the embedded run replays as daily runs: the latest ``SMELT_SIM_DAILY_RUNS`` completed at
    ``now``. None with Polygon or a served simulator: their snapshot shows only the latest session."""
    count = settings.simulator.daily_runs
    if not count or not uses_embedded_simulator(settings):
        return frozenset()
    return frozenset(calendar.previous_trading_days(calendar.last_completed_trading_day(now), count))


def uses_embedded_flatfiles(settings: Settings) -> bool:
    """The in-process simulator publishes its flat files to a local endpoint for the run (no keys set)."""
    from workflows.flatfiles import embedded

    return (
        uses_embedded_simulator(settings)
        and settings.simulator.flatfiles
        and not settings.flatfiles.credentials_set
        and embedded.available()
    )


def flatfiles_reason(settings: Settings) -> str | None:
    """Why flat files can be read in this run, or None when they cannot."""
    if settings.flatfiles.credentials_set:
        return "flat-file keys are set (POLYGON_FLATFILES_*)"
    if uses_embedded_flatfiles(settings):
        return "the embedded simulator publishes its flat files locally (SMELT_SIM_FLATFILES)"
    return None


def plan(settings: Settings, days: Sequence[dt.date], now: dt.datetime | None = None) -> Plan:
    """Decide every day's path at one clock (default: the source's, read once here)."""
    now = now or source_now(settings)
    replays = settings.source == "simulator" and settings.simulator.snapshot_history
    daily = replayed_days(settings, now)
    replay = (
        f"the embedded simulator replays this day's daily run, its clock set to the day's close, as one of the "
        f"latest {settings.simulator.daily_runs} sessions (SMELT_SIM_DAILY_RUNS)"
    )
    flatfiles = flatfiles_reason(settings)
    return Plan(
        now, tuple(_decide(day, now, replays, replay if day in daily else None, flatfiles) for day in days)
    )


def _decide(
    day: dt.date, now: dt.datetime, replays: bool, daily: str | None, flatfiles: str | None
) -> DayPlan:
    from workflows.flatfiles import published_at

    at = f"at {now:%Y-%m-%d %H:%M} UTC"
    if replays:  # like Polygon's, the simulator's snapshot knows only the latest session unless told
        return DayPlan(day, "snapshot", "the simulator replays past snapshots (SMELT_SIM_SNAPSHOT_HISTORY)")
    if snapshot_is_end_of_day(day, now):
        return DayPlan(day, "snapshot", f"the chain snapshot still shows this day's close {at}")
    gone = f"the chain snapshot does not show this day's close {at}"
    if daily:
        return DayPlan(day, "replay", f"{gone}; {daily}")
    if flatfiles is None:
        return DayPlan(day, "backfill", f"{gone}, and no flat-file keys are set")
    due = published_at(day)
    if now < due:
        return DayPlan(
            day, "backfill", f"{gone}, and its flat files are not published before {due:%Y-%m-%d %H:%M} UTC"
        )
    return DayPlan(day, "flatfiles", f"{gone}; {flatfiles} and the day's files are published")
