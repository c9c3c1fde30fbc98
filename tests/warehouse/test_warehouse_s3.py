"""An S3 lake (moto's server, real HTTP) loads exactly like a folder lake: same rows, same lineage."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from workflows.lake import Lake, Manifest
from workflows.warehouse import LANDING_TABLES, DuckDBWarehouse, load
from workflows.warehouse.ddl import FLATFILE_TABLES

WriteDay = Callable[..., dict[str, Manifest]]


def snapshot(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    union = " UNION ALL ".join(
        f"SELECT '{t}', record::VARCHAR, trade_date, underlying, source_file, source_row FROM {t}"
        for t in LANDING_TABLES.values()
        if t not in FLATFILE_TABLES  # the flat-file loads are compared on S3 in test_flatfile_load.py
    )
    with duckdb.connect(str(db)) as con:
        rows = con.execute(f"{union} ORDER BY ALL").fetchall()
        ledger = con.execute("SELECT * EXCLUDE (loaded_at) FROM raw.smelt_loads ORDER BY ALL").fetchall()
    return rows, ledger


def test_s3_lake_loads_the_same_as_a_folder_lake(
    s3_lake: Lake, folder_lake: Lake, write_day: WriteDay, day: dt.date, tmp_path: Path
) -> None:
    s3_manifests = write_day(s3_lake)
    folder_manifests = write_day(folder_lake)
    assert s3_lake.url.startswith("s3://") and sorted(s3_manifests) == sorted(folder_manifests)

    reports = {}
    for name, lake in (("s3", s3_lake), ("folder", folder_lake)):
        with DuckDBWarehouse(tmp_path / f"{name}.duckdb") as wh:
            reports[name] = load(wh, lake, day)
            again = load(wh, lake, day)
        assert reports[name].ok and len(again.skipped) == len(s3_manifests)

    assert reports["s3"].summary() | {"seconds": 0} == reports["folder"].summary() | {"seconds": 0}
    s3_rows, s3_ledger = snapshot(tmp_path / "s3.duckdb")
    folder_rows, folder_ledger = snapshot(tmp_path / "folder.duckdb")
    assert s3_rows == folder_rows
    # Same ledger but for sha256: each lake's manifests carry their own created_at.
    assert [row[:-1] for row in s3_ledger] == [row[:-1] for row in folder_ledger]
    assert {row[0]: row[-1] for row in s3_ledger} == {
        key: hashlib.sha256(s3_lake.storage.get_bytes(key)).hexdigest() for key in s3_manifests
    }
    assert len(s3_rows) == sum(m.rows for m in s3_manifests.values())
    assert all(not row[4].startswith(("/", "s3:", "file:")) for row in s3_rows)  # lake keys, not temp paths


def test_s3_part_altered_after_its_manifest_fails_with_the_s3_url(
    s3_lake: Lake, write_day: WriteDay, day: dt.date, tmp_path: Path
) -> None:
    manifests = write_day(s3_lake)
    victim = next(m for m in manifests.values() if len(m.parts) > 1)
    part = victim.parts[0]
    storage: Any = s3_lake.storage
    body = storage.get_bytes(part.key)
    storage.client.put_object(Bucket=storage.bucket, Key=storage._key(part.key), Body=body[:-10])

    with DuckDBWarehouse(tmp_path / "s3.duckdb") as wh:
        report = load(wh, s3_lake, day)

    assert [r.key for r in report.failed] == [victim.key]
    assert f"{s3_lake.url}/{part.key} does not match its manifest" in (report.failed[0].message or "")
    assert len(report.loaded) == len(manifests) - 1
