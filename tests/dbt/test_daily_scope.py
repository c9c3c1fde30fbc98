"""The daily transform builds and tests what the ledger holds beyond its watermark, nothing more, nothing less.

One warehouse (real DuckDB, real dbt, the simulator for one small underlying), taken through the days of a
daily pipeline in order:

* two days built; then nothing new: no dbt invocation at all, freshness still judged (from the ledger);
* an old day corrupted behind dbt's back, and a new day loaded with a bad bar (high below low): the daily
  build fails on the new day's row, and the watermark stays where it was;
* the new day's bar fixed: the next run redoes that day and passes, though the old day is still corrupt
  (the daily build does not re-test history);
* ``--full-validation`` tests whole tables: it catches the old day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.marks import builds_a_warehouse
from workflows import calendar, steps
from workflows.settings import load_settings
from workflows.steps.transform import CONSUMER
from workflows.warehouse.watermark import read_watermark

#: Each test may build the module's warehouse (ingest, a first build): minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(1200)

DAYS = calendar.previous_trading_days(dt.date(2026, 11, 20), 4)
OLD, NEW = DAYS[0], DAYS[2]
TICKER = "XOM"


class Daily:
    def __init__(self, home: Path) -> None:
        settings = load_settings(
            home=home, underlyings=(TICKER,), sim_now=DAYS[-1], sim_snapshot_history=True, sim_market_size=30,
            log_format="json", log_level="warning",
        )  # fmt: skip
        self.resources = steps.Resources.from_settings(settings)
        self.db = settings.duckdb.path

    def land(self, day: dt.date) -> None:
        steps.ingest_stocks(self.resources, day)
        steps.ingest_options(self.resources, day, underlyings=(TICKER,), mode="snapshot")
        steps.load(self.resources, day)

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db)) as con:
            return con.execute(statement, params).fetchall()

    def watermark(self) -> dt.datetime | None:
        with self.resources.warehouse() as warehouse:
            return read_watermark(warehouse, CONSUMER)

    def run_results_mtime(self) -> float:
        return (self.resources.settings.home / "dbt" / "target" / "run_results.json").stat().st_mtime


@pytest.fixture(scope="module")
@builds_a_warehouse
def daily(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daily]:
    pipeline = Daily(tmp_path_factory.mktemp("daily") / "home")
    for day in DAYS[:2]:
        pipeline.land(day)
    first = steps.transform(pipeline.resources)
    assert first.built and set(first.days) == set(DAYS[:2])
    yield pipeline


def test_nothing_new_invokes_no_dbt(daily: Daily, monkeypatch: pytest.MonkeyPatch) -> None:
    before, watermark = daily.run_results_mtime(), daily.watermark()
    assert watermark is not None

    def no_dbt(*args: str) -> None:
        raise AssertionError(f"dbt invoked with nothing new: {args}")

    monkeypatch.setattr(daily.resources.dbt, "invoke", no_dbt)
    report = steps.transform(daily.resources)
    assert (report.built, report.scope, report.models, report.tests, report.days) == (
        False, "nothing-new", 0, 0, ()
    )  # fmt: skip
    assert report.run_results is None and daily.run_results_mtime() == before
    assert daily.watermark() == watermark


def test_a_bad_row_in_the_new_day_fails_until_fixed_and_the_watermark_stays(daily: Daily) -> None:
    # an old day corrupted after it was built and tested: the daily build must not read it again
    daily.sql("update intermediate.int_polygon__stock_bars_adjusted set high_adj = low_adj - 1 "
              "where ticker = ? and trade_date = ?", [TICKER, OLD])  # fmt: skip
    daily.land(NEW)
    daily.sql("update raw.polygon_stock_bars set record = json_merge_patch(record, '{\"h\": 0.01}') "
              f"where record->>'T' = '{TICKER}' and trade_date = DATE '{NEW}'")  # fmt: skip
    watermark = daily.watermark()

    for _attempt in range(2):  # a retry tests the same day again: the failed build moved no watermark
        with pytest.raises(steps.StepError) as failed:
            steps.transform(daily.resources)
        assert "dbt build failed" in str(failed.value)
        assert "expression_is_true_stg_polygon__stock_bars" in str(failed.value)
        assert daily.watermark() == watermark

    # the vendor's bar fetched again: the next daily run builds and tests the new day, the old day unread
    steps.ingest_stocks(daily.resources, NEW)
    steps.load(daily.resources, NEW)
    report = steps.transform(daily.resources)
    assert report.built and report.scope == "increment" and report.days == (NEW,)
    assert report.tests > 0
    assert daily.watermark() is not None and daily.watermark() > watermark  # type: ignore[operator]
    [(high, low)] = daily.sql("select high, low from staging.stg_polygon__stock_bars "
                              "where ticker = ? and trade_date = ?", [TICKER, NEW])  # fmt: skip
    assert high >= low


def test_full_validation_catches_the_old_day(daily: Daily) -> None:
    with pytest.raises(steps.StepError) as failed:
        steps.transform(daily.resources, full_validation=True)
    message = str(failed.value)
    assert "expression_is_true_mart_stock_daily" in message
    assert "stg_polygon__stock_bars" not in message  # the new day's bar is fixed: only the old day fails
