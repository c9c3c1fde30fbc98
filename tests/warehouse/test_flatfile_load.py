"""Flat-file manifests into DuckDB: typed rows, their lineage, once per manifest, and bad files refused whole."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from typing import Any

import pytest

from tests.warehouse.flatfile_lake import (
    BAD_FILES,
    DAY,
    HEADER,
    OPTIONS,
    RUN,
    STOCKS,
    csv_body,
    land_bars,
    load_a_bad_day,
    window_start,
)
from workflows.lake import Lake
from workflows.warehouse import DuckDBWarehouse, ManifestLoadError, load

Query = Callable[..., list[tuple[Any, ...]]]


def test_a_flat_file_day_loads_typed_with_its_lineage_once(
    folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query
) -> None:
    stocks = land_bars(folder_lake, "stock_day_aggs", DAY, STOCKS, run_id=RUN)
    options = land_bars(folder_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN, source="polygon")

    report = load(warehouse, folder_lake, DAY, ["stock_day_aggs", "option_day_aggs"])

    assert report.ok and report.rows == 5 and len(report.loaded) == 2
    rows = query(
        "SELECT ticker, volume, open, close, high, low, window_start, transactions, trade_date, source, "
        "source_file, source_row, source_etag, source_last_modified FROM raw.polygon_option_day_aggs "
        "ORDER BY source_row"
    )
    start = window_start(DAY)
    assert start == 1767589200 * 10**9  # 00:00 New York of 2026-01-05 (EST, UTC-5)
    expected_modified = dt.datetime(2026, 1, 6, 16, tzinfo=dt.UTC)
    assert [r[:8] for r in rows] == [(*bar[:6], start, bar[6]) for bar in OPTIONS]
    assert {(r[8], r[9], r[10], r[12]) for r in rows} == {
        (DAY, "polygon", options.parts[0].key, '"0123456789abcdef"')
    }
    assert [r[11] for r in rows] == [1, 2, 3]  # the data row's number, header excluded
    assert {r[13] for r in rows} == {expected_modified}
    types = dict(query("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = 'polygon_stock_day_aggs'"))  # fmt: skip
    assert (types["volume"], types["open"], types["window_start"]) == ("BIGINT", "DOUBLE", "BIGINT")
    assert query("SELECT count(*), min(source) FROM raw.polygon_stock_day_aggs") == [(2, "simulator")]
    ledger = query("SELECT manifest_key, files, rows FROM raw.smelt_loads ORDER BY 1")
    assert ledger == sorted([(options.key, 1, 3), (stocks.key, 1, 2)])

    again = load(warehouse, folder_lake, DAY)
    assert again.rows == 0 and {r.status for r in again.results} == {"skipped"}
    assert query("SELECT count(*) FROM raw.polygon_option_day_aggs") == [(3,)]


def test_a_republished_object_lands_as_a_second_version(
    s3_lake: Lake, warehouse: DuckDBWarehouse, query: Query
) -> None:
    """On an S3 lake too: each version keeps its ETag and last-modified time, for staging to choose from."""
    land_bars(s3_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN, etag='"v1"')
    fixed = [(*OPTIONS[0][:3], 3.0, *OPTIONS[0][4:]), *OPTIONS[1:]]
    later = dt.datetime(2026, 1, 7, 3, tzinfo=dt.UTC)
    land_bars(s3_lake, "option_day_aggs", DAY, fixed, run_id="20260107T030000Z-0000c5v2", etag='"v2"',
              last_modified=later)  # fmt: skip
    assert load(warehouse, s3_lake, DAY).rows == 6
    versions = query(
        "SELECT source_etag, source_last_modified, count(*), max(close) FILTER (WHERE source_row = 1) "
        "FROM raw.polygon_option_day_aggs GROUP BY ALL ORDER BY 1"
    )
    assert versions == [
        ('"v1"', dt.datetime(2026, 1, 6, 16, tzinfo=dt.UTC), 3, 2.95),
        ('"v2"', later, 3, 3.0),
    ]


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_flat_file_fails_its_manifest_and_loads_nothing(
    case: str, folder_lake: Lake, warehouse: DuckDBWarehouse, query: Query
) -> None:
    body, rows, says = BAD_FILES[case]
    message, bad = load_a_bad_day(warehouse, folder_lake, body, rows, query)
    assert says in message and bad.parts[0].key in message, message


def test_a_manifest_without_its_origin_or_format_is_refused(
    folder_lake: Lake, warehouse: DuckDBWarehouse
) -> None:
    no_origin = land_bars(folder_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN)
    body = folder_lake.storage.get_bytes(no_origin.key).replace(b'"etag"', b'"e_tag"')
    folder_lake.storage.local_path(no_origin.key).write_bytes(body)  # type: ignore[union-attr]
    with pytest.raises(ManifestLoadError, match=r"no usable stats\.origin"):
        warehouse.load_manifest(folder_lake, no_origin.key)

    csv_as_json = land_bars(folder_lake, "stock_day_aggs", DAY, STOCKS, run_id=RUN)
    body = folder_lake.storage.get_bytes(csv_as_json.key).replace(b'"csv.gz"', b'"ndjson.gz"')
    folder_lake.storage.local_path(csv_as_json.key).write_bytes(body)  # type: ignore[union-attr]
    with pytest.raises(ManifestLoadError, match=r"stats\.format is 'ndjson\.gz'"):
        warehouse.load_manifest(folder_lake, csv_as_json.key)


def test_csv_body_is_what_the_vendor_writes() -> None:
    """The helper's file, read back: the header line, then one line per bar with the day's window_start."""
    lines = gzip.decompress(csv_body(DAY, STOCKS[:1])).decode().splitlines()
    assert lines == [HEADER, f"AAPL,51234567,243.1,245.04,246.2,242.05,{window_start(DAY)},612345"]


def test_an_empty_flat_file_table_of_the_old_json_shape_is_replaced(db_path: Any, folder_lake: Lake) -> None:
    """A warehouse made while the flat-file tables had the JSON landing shape loads flat files once made again;
    one whose old table holds rows is refused with what to do, and keeps them."""
    import duckdb

    from workflows.warehouse.duckdb import WarehouseSchemaError

    old = "(record JSON NOT NULL, trade_date DATE NOT NULL, underlying VARCHAR, source_file VARCHAR NOT NULL, " \
          "source_row BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL)"  # fmt: skip
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA raw")
        for table in ("raw.polygon_stock_day_aggs", "raw.polygon_option_day_aggs"):
            con.execute(f"CREATE TABLE {table} {old}")
    land_bars(folder_lake, "option_day_aggs", DAY, OPTIONS, run_id=RUN)
    with DuckDBWarehouse(db_path) as wh:
        assert load(wh, folder_lake, DAY).rows == 3

    with duckdb.connect(str(db_path)) as con:
        con.execute("DROP TABLE raw.polygon_stock_day_aggs")
        con.execute(f"CREATE TABLE raw.polygon_stock_day_aggs {old}")
        con.execute("INSERT INTO raw.polygon_stock_day_aggs VALUES ('{}', '2026-01-05', NULL, 'f', 1, now())")
    with DuckDBWarehouse(db_path) as wh, pytest.raises(WarehouseSchemaError, match="drop it and re-run"):
        wh.ensure_landing()
    with duckdb.connect(str(db_path)) as con:
        assert con.execute("SELECT count(*) FROM raw.polygon_stock_day_aggs").fetchall() == [(1,)]
