"""``source_row`` counts a flat file's data rows from 1, the header excluded, on Snowflake as on DuckDB, whether or
not Snowflake's ``METADATA$FILE_ROW_NUMBER`` counts the line ``SKIP_HEADER`` skipped (its documentation does not
say; decision 111). The emulator is switched to count it (offset 1), or to number rows in a way neither reading
explains (offset 5), which fails the manifest and loads nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.snowflake.conftest import FakeSnowflake, serve_fakesnow
from tests.warehouse.flatfile_lake import DAY, OPTIONS, RUN, STOCKS, land_bars
from workflows.lake import Lake
from workflows.warehouse import DuckDBWarehouse, load
from workflows.warehouse.snowflake import SnowflakeWarehouse

pytestmark = pytest.mark.snowflake

Query = Callable[..., list[tuple[Any, ...]]]
ROWS = "select ticker, source_row from {table} order by source_file, source_row"


@pytest.fixture(scope="module", params=[1, 5], ids=["header-counted", "numbered-otherwise"])
def row_number_offset(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory: pytest.TempPathFactory, row_number_offset: int) -> Iterator[FakeSnowflake]:
    """This module's emulator adds ``row_number_offset`` to METADATA$FILE_ROW_NUMBER of a CSV COPY."""
    with serve_fakesnow(tmp_path_factory, SMELT_FAKESNOW_ROW_NUMBER_OFFSET=str(row_number_offset)) as server:
        yield server


def test_source_row_is_the_data_row_number_whatever_copy_counts(
    row_number_offset: int, warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Query, tmp_path: Path
) -> None:
    land_bars(folder_lake, "stock_day_aggs", DAY, STOCKS, run_id=RUN)
    options = land_bars(folder_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN)

    with capture_logs() as events:
        report = load(warehouse, folder_lake, DAY)

    if row_number_offset != 1:
        assert not report.loaded and len(report.failed) == 2, report
        failed = next(f for f in report.failed if f.key == options.key)
        assert failed.retryable is False
        assert "COPY numbered the 3 data rows of raw/polygon/" in (failed.message or ""), failed.message
        assert "6..8, not 1..3" in (failed.message or ""), failed.message
        assert query("select count(*) from raw.polygon_option_day_aggs") == [(0,)]
        assert query("select count(*) from raw.smelt_loads") == [(0,)]
        return
    assert report.ok and report.rows == 5, report.errors
    sent = [e["statements"] for e in events if e["event"] == "transaction statements"]
    assert all(s[-3:] == ["SELECT", "UPDATE", "COMMIT"] for s in sent), sent
    with DuckDBWarehouse(tmp_path / "duck.duckdb") as duck:
        assert load(duck, folder_lake, DAY).ok
        for table in ("raw.polygon_stock_day_aggs", "raw.polygon_option_day_aggs"):
            rows = query(ROWS.format(table=table))
            assert [(t, int(n)) for t, n in rows] == duck.fetch(ROWS.format(table=table)), table
    assert [int(n) for _, n in query(ROWS.format(table="raw.polygon_option_day_aggs"))] == [1, 2, 3]
