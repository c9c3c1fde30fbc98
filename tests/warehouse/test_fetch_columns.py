"""Warehouse.fetch_columns: DuckDB's columnar fetch gives what the portable one (Snowflake's) gives."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from workflows.warehouse.base import Warehouse
from workflows.warehouse.duckdb import DuckDBWarehouse

SQL = """
select * from (values ('O:A', date '2026-11-20', 1.5, 2), ('O:B', null, null, null))
    as t(option_ticker, trade_date, price, size)
"""
NAMES = ("option_ticker", "trade_date", "price", "size")


def test_nulls_are_nan_in_float_columns_and_none_elsewhere_on_both_paths(tmp_path: Path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse:
        columnar = warehouse.fetch_columns(SQL, NAMES, floats={"price"})
        portable = Warehouse.fetch_columns(warehouse, SQL, NAMES, floats={"price"})
    for found in (columnar, portable):
        assert found["option_ticker"].tolist() == ["O:A", "O:B"]
        assert found["price"].dtype.kind == "f" and found["price"][0] == 1.5 and math.isnan(found["price"][1])
        assert found["size"].tolist() == [2, None]
        day = found["trade_date"][0]
        assert (day.date() if isinstance(day, dt.datetime) else day) == dt.date(2026, 11, 20)
        assert found["trade_date"][1] is None
