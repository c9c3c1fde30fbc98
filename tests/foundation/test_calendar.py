"""NYSE calendar facts that the pipeline's day ranges depend on."""

from __future__ import annotations

import datetime as dt

import pytest

from workflows import calendar


def test_trading_days_skip_weekends_and_thanksgiving() -> None:
    days = calendar.trading_days(dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    assert dt.date(2026, 11, 26) not in days  # Thanksgiving
    assert dt.date(2026, 11, 21) not in days  # Saturday
    assert days[0] == dt.date(2026, 11, 20) and days[-1] == dt.date(2026, 11, 30) and len(days) == 6


def test_holidays_and_early_closes() -> None:
    assert dt.date(2026, 12, 25) in calendar.holidays(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert dt.date(2026, 7, 3) in calendar.holidays(dt.date(2026, 7, 1), dt.date(2026, 7, 6))  # observed
    days = calendar.trading_days(dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    closes = {day: calendar.session_close(day).astimezone(calendar.NEW_YORK).time() for day in days}
    assert {day: time for day, time in closes.items() if time < dt.time(16, 0)} == {
        dt.date(2026, 11, 27): dt.time(13, 0),
        dt.date(2026, 12, 24): dt.time(13, 0),
    }


@pytest.mark.parametrize(
    ("now_utc", "expected"),
    [
        (dt.datetime(2026, 11, 25, 20, 59, tzinfo=dt.UTC), dt.date(2026, 11, 24)),  # 15:59 New York
        (dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC), dt.date(2026, 11, 25)),  # the close
        (dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC), dt.date(2026, 11, 25)),  # holiday
        (dt.datetime(2026, 11, 27, 18, 1, tzinfo=dt.UTC), dt.date(2026, 11, 27)),  # after a 13:00 early close
        (dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC), dt.date(2026, 11, 27)),  # Sunday night in New York
    ],
)
def test_last_completed_trading_day_is_in_new_york_time(now_utc: dt.datetime, expected: dt.date) -> None:
    assert calendar.last_completed_trading_day(now_utc) == expected


def test_previous_trading_days_and_bad_input() -> None:
    assert calendar.previous_trading_days(dt.date(2026, 11, 28), 2) == [
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 27),
    ]
    with pytest.raises(ValueError, match="before start"):
        calendar.trading_days(dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.last_completed_trading_day(dt.datetime(2026, 1, 2, 12))
    with pytest.raises(ValueError, match="not an NYSE trading day"):
        calendar.session_close(dt.date(2026, 11, 26))
