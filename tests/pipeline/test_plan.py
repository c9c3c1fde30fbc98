"""The run's plan: every day's options path decided once, at one clock, with its reason (no fetching)."""

from __future__ import annotations

import datetime as dt

from tests.pipeline.support import END, START
from workflows import calendar
from workflows.settings import load_settings
from workflows.steps.plan import plan


def test_only_the_latest_session_has_a_snapshot_at_the_sources_clock() -> None:
    days = calendar.trading_days(START, END)
    decided = plan(load_settings(sim_now=END), days)  # the simulator's clock: just after END's close
    assert decided.now == calendar.session_close(END) + dt.timedelta(minutes=1)
    assert decided.days_on("snapshot") == [END] and decided.days_on("backfill") == days[:-1]
    assert [p.day for p in decided.days] == days
    assert "still shows this day's close" in next(p.reason for p in decided.days if p.day == END)


def test_the_next_open_moves_the_day_to_the_backfill_path() -> None:
    next_day = calendar.trading_days(END + dt.timedelta(days=1), END + dt.timedelta(days=7))[0]
    after_close = calendar.session_close(END) + dt.timedelta(hours=1)
    during_next = calendar.session_close(next_day) - dt.timedelta(
        hours=1
    )  # the snapshot shows that session live
    assert plan(load_settings(), [END], now=after_close).path(END) == "snapshot"
    [decided] = plan(load_settings(), [END], now=during_next).days
    assert decided.path == "backfill" and "does not show this day's close" in decided.reason


def test_a_replaying_simulator_serves_every_day_from_the_snapshot() -> None:
    days = calendar.trading_days(START, END)
    decided = plan(load_settings(sim_now=END, sim_snapshot_history=True), days)
    assert decided.days_on("snapshot") == days
    assert all("SMELT_SIM_SNAPSHOT_HISTORY" in p.reason for p in decided.days)
