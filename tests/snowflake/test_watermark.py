"""The transform's watermark on Snowflake (fakesnow's server, the real connector) as on DuckDB: none at first,
set and replaced in one transaction, read back as the same instant, and the increment after it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.snowflake.conftest import FakeSnowflake, prepare_database
from workflows.settings import load_settings
from workflows.warehouse import DuckDBWarehouse, Warehouse, open_warehouse
from workflows.warehouse.increment import increment_since
from workflows.warehouse.watermark import read_watermark, write_watermark

pytestmark = pytest.mark.snowflake

FIRST = dt.datetime(2026, 11, 20, 21, 5, 1, 250000, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


@pytest.fixture(params=["duckdb", "snowflake"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        with DuckDBWarehouse(tmp_path / "warehouse.duckdb") as duck:
            duck.ensure_landing()
            yield duck
        return
    fakesnow: FakeSnowflake = request.getfixturevalue("fakesnow")
    key: Path = request.getfixturevalue("key_pair")[0]
    database = f"SMELT_{uuid.uuid4().hex[:8].upper()}"
    prepare_database(fakesnow, key, database, "s3://smelt-lake/prod")
    for name, value in {
        **fakesnow.env(key),
        "SNOWFLAKE_DATABASE": database,
        "SMELT_WAREHOUSE": "snowflake",
    }.items():
        monkeypatch.setenv(name, value)
    with open_warehouse(load_settings()) as snow:
        snow.ensure_landing()
        yield snow


def test_a_watermark_is_kept_replaced_and_bounds_the_increment(warehouse: Warehouse) -> None:
    assert read_watermark(warehouse, "transform") is None
    write_watermark(warehouse, "transform", FIRST)
    write_watermark(warehouse, "publish", LATER)  # another consumer's, beside it
    assert read_watermark(warehouse, "transform") == FIRST
    write_watermark(warehouse, "transform", LATER)
    assert read_watermark(warehouse, "transform") == LATER
    assert read_watermark(warehouse, "publish") == LATER
    # the ledger is empty: nothing after the watermark, and the watermark stays
    increment = increment_since(warehouse, read_watermark(warehouse, "transform"))
    assert increment.empty and increment.watermark == LATER


def test_a_naive_watermark_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        write_watermark(warehouse, "transform", FIRST.replace(tzinfo=None))
