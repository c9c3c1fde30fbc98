"""`smelt calendar resolve|days`: the cron's trading day, and a clean, named skip on closed days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workflows.argo import tradingday
from workflows.cli import app


@pytest.mark.parametrize(
    ("scheduled", "day", "trading", "reason"),
    [
        ("2026-11-24T18:30:00-05:00", "2026-11-24", True, "NYSE session"),
        ("2026-11-24T23:30:00Z", "2026-11-24", True, "NYSE session"),  # the same instant in UTC
        ("2026-11-26T18:30:00-05:00", "2026-11-26", False, "Thanksgiving"),
        ("2026-11-28T18:30:00-05:00", "2026-11-28", False, "Saturday"),
        ("2026-11-27T12:00:00-05:00", "2026-11-27", False, "has not closed yet (closes 13:00"),  # early close
        ("2026-11-24T10:00:00-05:00", "2026-11-24", False, "has not closed yet"),
    ],
)
def test_auto_resolves_the_scheduled_new_york_day(
    scheduled: str, day: str, trading: bool, reason: str
) -> None:
    result = tradingday.resolve("auto", scheduled)
    assert (result.trade_date.isoformat(), result.trading) == (day, trading)
    assert reason in result.reason


def test_auto_without_a_schedule_uses_now() -> None:
    now = dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC)  # 16:00 New York: the close itself
    assert tradingday.resolve("auto", None, now=now) == tradingday.Resolution(
        dt.date(2026, 11, 25), True, "2026-11-25 is an NYSE session, closed at the scheduled time"
    )


def test_a_named_day_is_run_or_skipped_as_the_calendar_says() -> None:
    assert tradingday.resolve("2026-07-02").trading
    closed = tradingday.resolve("2026-07-03")  # Independence Day observed
    assert not closed.trading and "July 4th" in closed.reason


@pytest.mark.parametrize(
    ("date", "scheduled", "message"),
    [
        ("2026-13-01", None, "expected a date like 2026-11-24"),
        ("auto", "yesterday", "expected an RFC 3339 time"),
        ("auto", "2026-11-24T18:30:00", "has no time zone"),
        ("2031-01-02", None, "outside the NYSE calendar smelt knows"),
    ],
)
def test_bad_arguments_say_what_was_wrong(date: str, scheduled: str | None, message: str) -> None:
    with pytest.raises(tradingday.TradingDayError, match=message):
        tradingday.resolve(date, scheduled)


def test_days_of_a_range_skip_weekends_and_holidays() -> None:
    days = tradingday.days("2026-11-20", "2026-11-30")
    assert [d.day for d in days] == [20, 23, 24, 25, 27, 30]
    with pytest.raises(tradingday.TradingDayError, match="before start"):
        tradingday.days("2026-11-30", "2026-11-20")


def test_cli_writes_the_output_parameters_argo_reads(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    done = CliRunner().invoke(
        app, ["calendar", "resolve", "--scheduled", "2026-11-26T18:30:00-05:00", "--out-dir", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert (out / "trade-date").read_text() == "2026-11-26"
    assert (out / "trading").read_text() == "false"
    assert "Thanksgiving" in (out / "reason").read_text()
    done = CliRunner().invoke(
        app, ["calendar", "days", "--start", "2026-11-24", "--end", "2026-11-27", "--out-dir", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert json.loads((out / "days").read_text()) == ["2026-11-24", "2026-11-25", "2026-11-27"]


def test_cli_bad_arguments_exit_2_and_write_nothing(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["calendar", "resolve", "--date", "24.11.2026", "--out-dir", str(tmp_path / "o")]
    )
    assert done.exit_code == 2
    assert not (tmp_path / "o").exists()
