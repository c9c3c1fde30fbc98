"""The increment: which trading days the ledger recorded after a watermark, read from the ledger alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from workflows.warehouse.duckdb import DuckDBWarehouse
from workflows.warehouse.increment import increment_since

T0 = dt.datetime(2026, 11, 2, 21, 0, tzinfo=dt.UTC)


def _ledger_row(wh: DuckDBWarehouse, key: str, dataset: str, day: str, loaded_at: dt.datetime) -> None:
    wh.fetch(
        "INSERT INTO raw.smelt_loads VALUES (?, ?, ?, 1, 10, 'x', ?)",
        [key, dataset, dt.date.fromisoformat(day), loaded_at],
    )


def test_days_after_the_watermark_and_the_next_watermark(tmp_path: Path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.create_landing()
        assert increment_since(wh, None).empty
        _ledger_row(wh, "a", "stock_bars", "2026-10-30", T0)
        _ledger_row(wh, "b", "option_snapshots", "2026-11-02", T0 + dt.timedelta(minutes=5))
        _ledger_row(wh, "c", "stock_bars", "2026-11-02", T0 + dt.timedelta(minutes=9))

        everything = increment_since(wh, None)
        assert everything.days == (dt.date(2026, 10, 30), dt.date(2026, 11, 2))
        assert everything.watermark == T0 + dt.timedelta(minutes=9)

        after = increment_since(wh, T0)
        assert after.days == (dt.date(2026, 11, 2),) and after.first == dt.date(2026, 11, 2)
        assert increment_since(wh, T0, ["stock_bars"]).days == (dt.date(2026, 11, 2),)
        assert increment_since(wh, T0 - dt.timedelta(seconds=1), ["stock_bars"]).days == (
            dt.date(2026, 10, 30),
            dt.date(2026, 11, 2),
        )

        nothing = increment_since(wh, everything.watermark)
        assert nothing.empty and nothing.watermark == everything.watermark  # the watermark never goes back


def test_a_naive_watermark_is_refused(tmp_path: Path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.create_landing()
        with pytest.raises(ValueError, match="timezone-aware"):
            increment_since(wh, dt.datetime(2026, 11, 2))
