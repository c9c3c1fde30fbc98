"""Lakes to load: a small trading day on a folder or on S3 (moto's server), and the warehouse under test."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from workflows.lake import FolderStorage, Lake, Manifest, PartInfo, S3Storage, part_key
from workflows.warehouse import DuckDBWarehouse

DAY = dt.date(2026, 1, 5)
RUN_ID = "20260105T211500Z-0000beef"
FETCHED_AT = "2026-01-05T21:15:00.000Z"

#: (dataset, underlying, rows, rows_per_part): parts of 4 so that every multi-part path is exercised.
DAY_PLAN: tuple[tuple[str, str | None, int, int], ...] = (
    ("stock_bars", None, 10, 4),
    ("stock_splits", None, 2, 4),
    ("option_contracts", "AAPL", 5, 4),
    ("option_contracts", "SPY", 0, 4),  # an empty day: a manifest with no parts
    ("option_snapshots", "AAPL", 9, 4),
    ("option_snapshots", "SPY", 6, 4),
    ("option_bars", "AAPL", 3, 4),
)


def item(dataset: str, underlying: str | None, seq: int) -> dict[str, Any]:
    """A record with awkward values: a 20-digit integer, a float, unicode, nesting and a null."""
    return {
        "seq": seq,
        "ticker": f"O:{underlying or 'X'}{seq:05d}",
        "dataset": dataset,
        "big": 12345678901234567890,
        "price": 120.73 + seq,
        "text": 'café \u2028 \u00e9 "quoted" \\ back',
        "nested": {"greeks": {"delta": 0.5, "gamma": None}, "list": [1, 2, seq]},
    }


def write_day(lake: Lake, day: dt.date = DAY, run_id: str = RUN_ID) -> dict[str, Manifest]:
    """Write DAY_PLAN through the lake's own writer; returns manifests by key."""
    manifests: dict[str, Manifest] = {}
    for dataset, underlying, rows, per_part in DAY_PLAN:
        with lake.writer(dataset, day, underlying, run_id, "simulator", rows_per_part=per_part) as writer:
            for seq in range(1, rows + 1):
                writer.write(
                    item(dataset, underlying, seq),
                    endpoint=f"/test/{dataset}",
                    request_id="r1",
                    fetched_at=FETCHED_AT,
                )
        assert writer.manifest is not None
        manifests[writer.manifest.key] = writer.manifest
    return manifests


def hand_manifest(
    lake: Lake, dataset: str, underlying: str | None, bodies: list[bytes], rows: list[int]
) -> Manifest:
    """Store parts with exactly these bytes and a manifest whose sizes and sha256 match them."""
    run_id = "20260105T220000Z-0000f00d"
    parts = []
    for index, (body, count) in enumerate(zip(bodies, rows, strict=True)):
        key = part_key(dataset, DAY, underlying, run_id, index)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "part"
            local.write_bytes(body)
            lake.storage.put_file(local, key)
        parts.append(PartInfo(key, count, len(body), hashlib.sha256(body).hexdigest()))
    manifest = Manifest(dataset, DAY, underlying, run_id, "simulator", FETCHED_AT, tuple(parts))
    lake.storage.put_exclusive(manifest.key, manifest.to_json())
    return manifest


@pytest.fixture
def s3_lake(s3_bucket: tuple[Any, str]) -> Lake:
    """A lake on the session's moto S3 server (tests/conftest.py), in a bucket of its own."""
    client, bucket = s3_bucket
    return Lake(S3Storage(bucket, "lake/prefix", client=client))


@pytest.fixture
def folder_lake(tmp_path: Path) -> Lake:
    return Lake(FolderStorage(tmp_path / "lake"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "smelt.duckdb"


@pytest.fixture
def warehouse(db_path: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(db_path) as wh:
        yield wh


@pytest.fixture
def query(warehouse: DuckDBWarehouse) -> Callable[..., list[tuple[Any, ...]]]:
    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = warehouse.connection().cursor()
        try:
            return list(cur.execute(sql, params).fetchall())
        finally:
            cur.close()

    return run


@pytest.fixture
def day() -> dt.date:
    return DAY


@pytest.fixture(name="write_day")
def _write_day() -> Callable[..., dict[str, Manifest]]:
    return write_day


@pytest.fixture(name="hand_manifest")
def _hand_manifest() -> Callable[..., Manifest]:
    return hand_manifest
