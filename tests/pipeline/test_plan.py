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


_FLATFILE_KEYS = {
    "polygon_flatfiles_access_key_id": "id-for-the-plan",
    "polygon_flatfiles_secret_access_key": "s3cr3t",
}


def test_past_days_take_flat_files_when_their_keys_are_set_and_the_files_are_published() -> None:
    days = calendar.trading_days(START, END)
    decided = plan(load_settings(sim_now=END, **_FLATFILE_KEYS), days)
    assert decided.days_on("snapshot") == [END] and decided.days_on("flatfiles") == days[:-1]
    assert all("flat-file keys are set" in p.reason for p in decided.days if p.path == "flatfiles")


def test_a_day_whose_flat_files_are_not_published_yet_takes_the_rest_backfill() -> None:
    from workflows.flatfiles import published_at

    monday = dt.date(
        2026, 11, 23
    )  # Tuesday 10:30 New York: the snapshot moved on at 9:30, the files come at 11
    between = published_at(monday) - dt.timedelta(minutes=30)
    [decided] = plan(load_settings(**_FLATFILE_KEYS), [monday], now=between).days
    assert decided.path == "backfill" and "not published before" in decided.reason
    assert (
        plan(load_settings(**_FLATFILE_KEYS), [monday], now=published_at(monday)).path(monday) == "flatfiles"
    )


def test_without_keys_or_the_embedded_endpoint_past_days_take_the_rest_backfill() -> None:
    [decided] = plan(load_settings(sim_now=END), [START]).days
    assert decided.path == "backfill" and "no flat-file keys are set" in decided.reason
    embedded = plan(load_settings(sim_now=END, sim_flatfiles=True), [START]).days[0]
    assert embedded.path == "flatfiles" and "SMELT_SIM_FLATFILES" in embedded.reason


def test_the_embedded_run_replays_its_latest_sessions_as_daily_runs() -> None:
    """The last SMELT_SIM_DAILY_RUNS sessions at the clock come through the snapshot (the latest one live, the
    others replayed at their close); older days keep the flat files (decision 107)."""
    days = calendar.trading_days(START - dt.timedelta(days=14), END)
    decided = plan(load_settings(sim_now=END, sim_flatfiles=True, sim_daily_runs=4), days)
    assert decided.days_on("snapshot") == [END] and decided.days_on("replay") == days[-4:-1]
    assert decided.days_on("flatfiles") == days[:-4]
    assert all("SMELT_SIM_DAILY_RUNS" in p.reason for p in decided.days if p.path == "replay")
    assert plan(load_settings(sim_now=END, sim_daily_runs=0), days).days_on("replay") == []
