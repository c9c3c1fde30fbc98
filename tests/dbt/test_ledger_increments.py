"""A load that commits while dbt runs is never missed: increments follow ledger keys, not ``loaded_at``.

On a real DuckDB file, in one process (DuckDB lets one process write a file): the real loader starts a
manifest (a corrected re-fetch of LAST_DAY's stock bars), stamping its ``loaded_at``, and holds it open;
another manifest (NEW_DAY's bars) loads and commits after it. Then ``dbt build`` runs, and the held load
commits right after ``stg_polygon__stock_bars`` has read the landing table. A ``loaded_at`` watermark would
now sit past the held load's stamp and skip it forever; the ledger keys bring it into the next build, which
must equal a full refresh.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.dbt.support import (
    COMPARED,
    DBT_DIR,
    LAST_DAY,
    NEW_DAY,
    UNDERLYINGS,
    DbtProject,
    Market,
    failures,
    initial_load,
    snapshot_tables,
    stock_bar,
)
from workflows.lake import FolderStorage, Lake, Manifest
from workflows.warehouse import DuckDBWarehouse, load

CORRECTED_CLOSE = 4242.42


def write_bars(lake: Lake, market: Market, day: dt.date, run_id: str, close: float | None = None) -> Manifest:
    fetched_at = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    with lake.writer("stock_bars", day, None, run_id, "simulator") as writer:
        for ticker in UNDERLYINGS:
            bar = stock_bar(market, ticker, day)
            if close is not None and ticker == "AAA":
                bar |= {"c": close, "h": max(bar["h"], close)}
            writer.write(bar, endpoint="/v2/aggs/grouped", request_id=run_id, fetched_at=fetched_at)
    assert writer.manifest is not None
    return writer.manifest


def build(project: DbtProject, on_node_done: dict[str, Any] | None = None) -> Any:
    """``dbt build`` in this process; ``on_node_done[name]()`` runs when that model has finished."""
    from dbt.cli.main import dbtRunner

    def callback(event: Any) -> None:
        if event.info.name == "NodeFinished" and on_node_done:
            name = event.data.node_info.node_name
            if name in on_node_done:
                on_node_done.pop(name)()

    argv = [
        "build", "--exclude-resource-type", "unit_test",
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
        "--target-path", str(project.work / "target"), "--log-path", str(project.work / "logs"),
        "--threads", "1",
    ]  # fmt: skip
    with mock.patch.dict(os.environ, {"SMELT_DUCKDB_PATH": str(project.db_path), "DO_NOT_TRACK": "1"}):
        result = dbtRunner(callbacks=[callback]).invoke(argv)
    assert result.success, failures(result)
    return result


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three builds and a full refresh of a year of bars: about 2 minutes alone
def test_a_load_committing_during_a_build_is_taken_by_the_next_build(tmp_path: Path) -> None:
    market = Market.simulate()
    db_path = tmp_path / "warehouse.duckdb"
    initial_load(market).write(db_path)
    project = DbtProject(db_path, tmp_path / "dbt")
    build(project)

    lake = Lake(FolderStorage(tmp_path / "lake"))
    late = write_bars(lake, market, LAST_DAY, "20240624T210000Z-0000late", close=CORRECTED_CLOSE)
    early = write_bars(lake, market, NEW_DAY, "20240624T210500Z-000early")

    warehouse = DuckDBWarehouse(db_path, checkpoint_threshold=None)
    release, parts_in = threading.Event(), threading.Event()
    load_parts = DuckDBWarehouse.load_parts

    def held_load_parts(
        self: DuckDBWarehouse, tx: Any, lake: Lake, manifest: Manifest, loaded_at: Any
    ) -> Any:
        counts = load_parts(self, tx, lake, manifest, loaded_at)
        if manifest.key == late.key:
            parts_in.set()
            assert release.wait(300), "the build never released the held load"
        return counts

    with mock.patch.object(DuckDBWarehouse, "load_parts", held_load_parts):
        held = threading.Thread(
            target=lambda: load(warehouse, lake, LAST_DAY, ["stock_bars"]).raise_for_failures()
        )
        held.start()
        assert parts_in.wait(120)
        time.sleep(0.01)  # the other manifest's loaded_at is strictly later
        load(warehouse, lake, NEW_DAY, ["stock_bars"]).raise_for_failures()

        def commit_the_held_load() -> None:
            release.set()
            held.join(120)
            assert not held.is_alive()

        build(project, {"stg_polygon__stock_bars": commit_the_held_load})
    warehouse.close()

    stamps = dict(project.query("select manifest_key, loaded_at from raw.smelt_loads"))
    assert stamps[late.key] < stamps[early.key], "the held load must carry the earlier loaded_at"
    [(watermark,)] = project.query("select max(_loaded_at) from staging.stg_polygon__stock_bars")
    assert watermark >= stamps[early.key] > stamps[late.key], "a loaded_at watermark would skip the held load"
    aaa = "select close from staging.stg_polygon__stock_bars where ticker = 'AAA' and trade_date = ?"
    assert project.query(aaa.replace("?", f"'{LAST_DAY}'")) != [(CORRECTED_CLOSE,)], (
        "read before it committed"
    )

    build(project)
    assert project.query(aaa.replace("?", f"'{LAST_DAY}'")) == [(CORRECTED_CLOSE,)]
    [(close_adj,)] = project.query(
        f"select close from marts.mart_stock_daily where ticker = 'AAA' and trade_date = '{LAST_DAY}'"
    )
    assert close_adj == CORRECTED_CLOSE

    incremental = snapshot_tables(project)
    refreshed = DbtProject(tmp_path / "refreshed.duckdb", tmp_path / "refresh")
    project.copy_to(refreshed.db_path)
    result, _ = refreshed.invoke("run", "--full-refresh")
    assert result.success, failures(result)
    full = snapshot_tables(refreshed)
    for name in COMPARED:
        assert incremental[name].equals(full[name]), name
