"""The suite's own clock (tests/conftest.py): every test runs at one fixed instant, whatever today is."""

from __future__ import annotations

import datetime as dt
import time

from tests.clock import TEST_CLOCK
from workflows import calendar
from workflows.settings import load_settings
from workflows.simulator.clock import default_now
from workflows.steps.plan import plan

FIXTURE_DAY = dt.date(2026, 11, 27)  # the dashboard fixture's last day, whose snapshot broke on 2026-12-05


def test_every_test_sees_the_fixed_clock_not_todays_date() -> None:
    assert dt.date.today() == TEST_CLOCK.date()
    assert abs(time.time() - TEST_CLOCK.timestamp()) < 6 * 3600  # it ticks from the session's start
    assert calendar.last_completed_trading_day() == dt.date(2027, 6, 14)


def test_an_unpinned_simulator_is_far_from_every_fixture() -> None:
    """The defect of issue 19 shows on the day it is written: a fixture's last day has no snapshot unless the
    test pins the simulator's clock to it."""
    assert default_now().date() == dt.date(2027, 6, 14)
    assert plan(load_settings(), [FIXTURE_DAY]).path(FIXTURE_DAY) == "backfill"
    assert plan(load_settings(sim_now=FIXTURE_DAY), [FIXTURE_DAY]).path(FIXTURE_DAY) == "snapshot"
