"""Flat-file manifests into Snowflake (fakesnow's server, the real connector): PUT and COPY with the CSV file
format, typed rows with the same lineage as on DuckDB, once per manifest; a malformed file loads nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.warehouse.flatfile_lake import (
    BAD_FILES,
    DAY,
    OPTIONS,
    RUN,
    STOCKS,
    land_bars,
    load_a_bad_day,
    window_start,
)
from workflows.lake import Lake, S3Storage
from workflows.warehouse import DuckDBWarehouse, load
from workflows.warehouse.snowflake import SnowflakeWarehouse

pytestmark = pytest.mark.snowflake

Query = Callable[..., list[tuple[Any, ...]]]
COLUMNS = ("ticker, volume, open, close, high, low, window_start, transactions, trade_date, source, "
           "source_file, source_row, source_etag, source_last_modified")  # fmt: skip


def _normal(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Snowflake's NUMBER comes back as int or Decimal, its TIMESTAMP_TZ in the session's zone: compare values."""
    return [
        tuple(int(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, float) else
              v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for v in row)
        for row in rows
    ]  # fmt: skip


def test_a_flat_file_day_loads_as_on_duckdb(
    warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Query, tmp_path: Path
) -> None:
    stocks = land_bars(folder_lake, "stock_day_aggs", DAY, STOCKS, run_id=RUN)
    land_bars(folder_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN, source="polygon")

    report = load(warehouse, folder_lake, DAY)

    assert report.ok and report.rows == 5, report.errors
    with DuckDBWarehouse(tmp_path / "duck.duckdb") as duck:
        assert load(duck, folder_lake, DAY).ok
        for table in ("raw.polygon_stock_day_aggs", "raw.polygon_option_day_aggs"):
            sql = f"select {COLUMNS} from {table} order by source_file, source_row"
            assert _normal(query(sql)) == _normal(duck.fetch(sql)), table
    rows = query("select ticker, volume, window_start, source_row from raw.polygon_stock_day_aggs order by 4")
    assert _normal(rows) == [
        ("AAPL", 51_234_567, window_start(DAY), 1),
        ("SPY", 80_000_001, window_start(DAY), 2),
    ]
    ledger = query('select files, "ROWS" from raw.smelt_loads where manifest_key = %s', [stocks.key])
    assert _normal(ledger) == [(1, 2)]
    assert query("list @raw.lake_uploads") == []  # PUT then COPY's PURGE

    again = load(warehouse, folder_lake, DAY)
    assert again.rows == 0 and len(again.skipped) == 2
    assert query("select count(*) from raw.polygon_option_day_aggs") == [(3,)]


def test_an_s3_lake_is_copied_from_the_external_stage_with_the_csv_format(
    warehouse: SnowflakeWarehouse, s3_bucket: tuple[Any, str], query: Query, tmp_path: Path
) -> None:
    """No PUT: COPY reads the object verified from S3 through the stage on the lake's raw zone (a local copy
    of the bucket, as in test_loader.py: the emulator cannot read S3)."""
    client, bucket = s3_bucket
    lake = Lake(S3Storage(bucket, "lake/prefix", client=client))
    manifest = land_bars(lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN)
    mirror = tmp_path / "mirror" / manifest.parts[0].key
    mirror.parent.mkdir(parents=True)
    mirror.write_bytes(lake.storage.get_bytes(manifest.parts[0].key))
    query(f"create or replace stage raw.lake url = '{(tmp_path / 'mirror' / 'raw' / 'polygon').as_uri()}/'")
    with capture_logs() as events:
        report = load(warehouse, lake, DAY)
    [sent] = [e["statements"] for e in events if e["event"] == "transaction statements"]
    assert sent == ["BEGIN", "INSERT", "COPY", "SELECT", "COMMIT"]  # SELECT: source_row checked 1..rows
    assert report.ok and report.rows == 3, report.errors
    assert query("select count(*), max(source_row) from raw.polygon_option_day_aggs") == [(3, 3)]


SNOWFLAKE_SAYS = {  # where Snowflake's words differ from DuckDB's; the header and count checks are the loader's
    "a value of the wrong type": "lots",
    "a row with a ninth field": "COPY of",
    "a row with seven fields": "COPY of",
    "an empty field": "COPY of",
    "an empty count": "COPY of",
    "not gzip": "not a readable gzip CSV",
    "a fractional volume": "'volume 10.5 of MSFT is not a whole number'",  # fails the cast it would round in
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_flat_file_fails_its_manifest_and_loads_nothing(
    case: str, warehouse: SnowflakeWarehouse, folder_lake: Lake, query: Query
) -> None:
    body, rows, says = BAD_FILES[case]
    message, bad = load_a_bad_day(warehouse, folder_lake, body, rows, query)
    assert bad.parts[0].key.removeprefix("raw/polygon/") in message, message
    assert SNOWFLAKE_SAYS.get(case, says) in message, message
