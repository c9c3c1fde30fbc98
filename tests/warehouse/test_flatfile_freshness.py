"""Freshness of a warehouse filled by flat files: the empty REST stock bars are judged by their stand-in."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from workflows.freshness import judge

NOW = dt.datetime(2026, 11, 25, 16, tzinfo=dt.UTC)


def _result(name: str, newest: dt.datetime | None, status: str = "pass") -> Any:
    node = SimpleNamespace(name=name, source_name="polygon", freshness=None)
    age = (NOW - newest).total_seconds() if newest else 0.0
    return SimpleNamespace(node=node, status=status, max_loaded_at=newest, age=age, message="")


def test_empty_rest_stock_bars_are_skipped_only_when_flat_files_have_the_data() -> None:
    loaded = NOW - dt.timedelta(hours=2)
    flat = judge([_result("polygon_stock_bars", None, "error"), _result("polygon_stock_day_aggs", loaded)])
    assert [(v.source, v.status) for v in flat] == [
        ("polygon.polygon_stock_bars", "skipped"),
        ("polygon.polygon_stock_day_aggs", "pass"),
    ]
    assert "polygon_stock_day_aggs has its data" in flat[0].message

    nothing = judge([_result("polygon_stock_bars", None, "error"), _result("polygon_stock_day_aggs", None)])
    assert [v.status for v in nothing] == ["error", "skipped"]  # no stock data at all is still an error

    stale = NOW - dt.timedelta(days=10)  # REST bars that stopped arriving are not excused by the flat files
    both = judge([_result("polygon_stock_bars", stale, "error"), _result("polygon_stock_day_aggs", loaded)])
    assert [v.status for v in both] == ["error", "pass"]
