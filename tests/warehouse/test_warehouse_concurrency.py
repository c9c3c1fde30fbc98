"""Loaders at once on one database: threads in a process, and processes waiting for DuckDB's file lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest

from workflows.lake import Lake, Manifest, PartInfo
from workflows.warehouse import LANDING_TABLES, DuckDBWarehouse, LoadResult, WarehouseLockedError, load

ROOT = Path(__file__).resolve().parents[2]
WriteDay = Callable[..., dict[str, Manifest]]

CHILD = """
import datetime as dt, json, sys
from workflows.lake import Lake
from workflows.logs import configure
from workflows.warehouse import DuckDBWarehouse, load

configure(fmt="json", level="info", stream=sys.stderr)
lake_url, db, day, timeout = sys.argv[1:5]
with DuckDBWarehouse(db, lock_timeout=float(timeout)) as wh:
    report = load(wh, Lake.open(lake_url), dt.date.fromisoformat(day))
print(json.dumps(report.summary()))
"""


def duplicates_and_ledger(db: Path) -> tuple[int, list[tuple[Any, ...]], int]:
    with duckdb.connect(str(db)) as con:
        dupes = sum(
            con.execute(
                f"SELECT count(*) FROM (SELECT source_file, source_row FROM {t} "
                "GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
            for t in LANDING_TABLES.values()
        )
        ledger = con.execute(
            "SELECT manifest_key, count(*) FROM raw.smelt_loads GROUP BY 1 ORDER BY 1"
        ).fetchall()
        rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in LANDING_TABLES.values())
    return dupes, ledger, rows


def spawn(lake: Lake, db: Path, day: dt.date, stderr: Path, timeout: float = 60) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, lake.url, str(db), day.isoformat(), str(timeout)],
        stdout=subprocess.PIPE,
        stderr=stderr.open("w"),
        text=True,
        env=env,
        cwd=ROOT,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_two_processes_wait_for_the_lock_and_load_each_manifest_once(
    folder_lake: Lake, write_day: WriteDay, day: dt.date, tmp_path: Path
) -> None:
    manifests = write_day(folder_lake)
    db = tmp_path / "shared.duckdb"
    holder = duckdb.connect(str(db))  # hold the file lock so both children must wait, then race
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    children = [spawn(folder_lake, db, day, log) for log in logs]
    try:
        wait_for(lambda: all("waiting for the DuckDB write lock" in log.read_text() for log in logs))
    finally:
        holder.close()
    outputs = [child.communicate(timeout=120)[0] for child in children]

    assert [child.returncode for child in children] == [0, 0], [log.read_text() for log in logs]
    summaries = [json.loads(out) for out in outputs]
    assert sum(s["loaded"] for s in summaries) == len(manifests)
    assert all(s["loaded"] + s["skipped"] == len(manifests) and s["failed"] == 0 for s in summaries)
    wait_line = json.loads(next(line for line in logs[0].read_text().splitlines() if "waiting" in line))
    assert wait_line["path"] == str(db) and "PID" in wait_line["held_by"]

    dupes, ledger, rows = duplicates_and_ledger(db)
    assert dupes == 0
    assert ledger == [(key, 1) for key in sorted(manifests)]
    assert rows == sum(m.rows for m in manifests.values())


def test_lock_held_too_long_is_a_clear_error(folder_lake: Lake, day: dt.date, tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    log = tmp_path / "child.log"
    holder = duckdb.connect(str(db))
    try:
        child = spawn(folder_lake, db, day, log, timeout=0.5)
        child.communicate(timeout=120)
    finally:
        holder.close()
    assert child.returncode != 0
    text = log.read_text()
    assert f"{WarehouseLockedError.__name__}: {db} stayed locked by" in text
    assert "PID" in text  # names the process holding the file


def test_threads_sharing_one_connection_do_not_double_load(
    folder_lake: Lake, write_day: WriteDay, day: dt.date, db_path: Path
) -> None:
    manifests = write_day(folder_lake)
    db_path.parent.mkdir(parents=True)
    connection = duckdb.connect(str(db_path))
    warehouses = [DuckDBWarehouse(db_path, connection=connection) for _ in range(3)]
    warehouses[0].ensure_landing()
    barrier = threading.Barrier(len(warehouses))

    def run(wh: DuckDBWarehouse) -> Any:
        barrier.wait(timeout=30)
        return load(wh, folder_lake, day, workers=2)

    with ThreadPoolExecutor(len(warehouses)) as pool:
        reports = list(pool.map(run, warehouses))
    connection.close()

    assert all(r.ok for r in reports)
    assert sum(len(r.loaded) for r in reports) == len(manifests)
    dupes, ledger, rows = duplicates_and_ledger(db_path)
    assert dupes == 0
    assert ledger == [(key, 1) for key in sorted(manifests)]
    assert rows == sum(m.rows for m in manifests.values())


class GatedLake(Lake):
    """Holds every loader at its first part until all have begun their transactions."""

    def __init__(self, lake: Lake, barrier: threading.Barrier) -> None:
        super().__init__(lake.storage)
        self.barrier = barrier

    @contextlib.contextmanager
    def verified_part(self, part: PartInfo) -> Iterator[Path]:
        self.barrier.wait(timeout=30)
        with super().verified_part(part) as path:
            yield path


def test_a_lost_race_on_the_ledger_is_a_skip_not_a_failure(
    folder_lake: Lake, write_day: WriteDay, warehouse: DuckDBWarehouse
) -> None:
    manifests = write_day(folder_lake)
    key = next(k for k, m in manifests.items() if len(m.parts) == 1)
    gated = GatedLake(folder_lake, threading.Barrier(2))
    warehouse.ensure_landing()

    with ThreadPoolExecutor(2) as pool:
        results: list[LoadResult] = list(pool.map(lambda _: warehouse.load_manifest(gated, key), range(2)))

    assert sorted(r.status for r in results) == ["loaded", "skipped"]
    skipped = next(r for r in results if r.status == "skipped")
    assert skipped.message == "loaded concurrently by another loader" and skipped.rows == 0
    cur = warehouse.connection().cursor()
    assert cur.execute("SELECT count(*) FROM raw.smelt_loads WHERE manifest_key = ?", [key]).fetchall() == [
        (1,)
    ]
    table = LANDING_TABLES[manifests[key].dataset]
    assert cur.execute(f"SELECT count(*) FROM {table}").fetchall() == [(manifests[key].rows,)]
    cur.close()


@pytest.mark.parametrize("workers", [1, 4])
def test_parallel_and_serial_loads_agree(
    folder_lake: Lake, write_day: WriteDay, day: dt.date, tmp_path: Path, workers: int
) -> None:
    manifests = write_day(folder_lake)
    db = tmp_path / f"w{workers}.duckdb"
    with DuckDBWarehouse(db) as wh:
        report = load(wh, folder_lake, day, workers=workers)
    assert report.ok and sorted(r.key for r in report.results) == sorted(manifests)
    dupes, ledger, rows = duplicates_and_ledger(db)
    assert (dupes, len(ledger), rows) == (0, len(manifests), sum(m.rows for m in manifests.values()))
