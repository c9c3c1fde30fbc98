"""The marts snapshot: versioned Parquet folders, an atomic CURRENT switch, the build summary, pruning, and a
failed publish that leaves the previous snapshot current and nothing half-written."""

from __future__ import annotations

import json
import os

import duckdb
import pytest
import yaml

from tests.dbt.test_published_marts import MARTS_YAML
from workflows.marts_contract import BUILD_FILE, CURRENT, PUBLISHED_MARTS, current_version
from workflows.publish import PublishError, prune, publish, snapshot_root


def test_a_snapshot_holds_every_mart_the_dashboard_reads(built_home) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(built_home)
    version = current_version(root)
    folder = root / str(version)
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as warehouse:
        for spec in PUBLISHED_MARTS:
            parquet = folder / f"{spec.name}.parquet"
            rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0]
            assert rows == warehouse.execute(f"SELECT count(*) FROM marts.{spec.name}").fetchone()[0] > 0
    # Each file has exactly the columns of the mart's dbt contract: what the dashboard may read.
    contracts = {
        m["name"]: [c["name"] for c in m["columns"]] for m in yaml.safe_load(MARTS_YAML.read_text())["models"]
    }
    for spec in PUBLISHED_MARTS:
        parquet = folder / f"{spec.name}.parquet"
        columns = [
            row[0] for row in duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()
        ]
        assert sorted(columns) == sorted(contracts[spec.name]), spec.name
    build = json.loads((folder / BUILD_FILE).read_text())
    assert build["version"] == version and build["source"] == "simulator"
    assert set(build["marts"]) == {m.name for m in PUBLISHED_MARTS}
    assert build["marts"]["mart_option_chain"]["sources"] == ["simulator"]
    assert build["tests"] and {t["status"] for t in build["tests"]} == {"pass"}
    assert {f["source"] for f in build["freshness"]} >= {
        "polygon.polygon_stock_bars",
        "polygon.polygon_option_snapshots",
    }
    datasets = {row["dataset"] for row in build["loads"]}
    assert datasets >= {"stock_bars", "option_contracts", "option_snapshots"}


def test_rows_are_sorted_for_pruning(built_home) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(built_home)
    path = root / str(current_version(root)) / "mart_option_chain.parquet"
    keys = duckdb.connect().execute(f"SELECT underlying, trade_date FROM read_parquet('{path}')").fetchall()
    assert keys == sorted(keys)


def test_publishing_switches_current_and_keeps_readers_safe(home_copy) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    first = current_version(root)
    report = publish(home_copy)
    assert current_version(root) == report.version != first
    assert (root / str(first)).is_dir()  # the previous version stays for readers that resolved it
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary left behind
    assert (root / CURRENT).read_text() == report.version + "\n"


def test_a_failed_publish_changes_nothing(home_copy) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    before = current_version(root)
    versions = sorted(p.name for p in root.iterdir())
    with duckdb.connect(str(home_copy.duckdb.path)) as con:
        con.execute("DROP VIEW marts.mart_options_max_pain")
    with pytest.raises(PublishError, match="could not snapshot the marts"):
        publish(home_copy)
    assert current_version(root) == before
    assert sorted(p.name for p in root.iterdir()) == versions


def test_prune_keeps_current_the_newest_and_the_young(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "snapshots"
    names = [f"2026010{i}T000000000000Z-00000{i}" for i in range(1, 8)]
    for name in names:
        (root / name).mkdir(parents=True)
    now = root.stat().st_mtime  # ages are read on the file system's clock, not the test session's fixed one
    for name in names:  # all but the newest are past the grace period
        young = name == names[-1]
        os.utime(root / name, (now if young else now - 3600,) * 2)
    (root / CURRENT).write_text(names[0] + "\n")  # a rollback: the current version is the oldest

    def left() -> list[str]:
        return sorted(p.name for p in root.iterdir() if p.is_dir())

    assert sorted(prune(root, keep=3, grace_seconds=600)) == names[1:4]
    assert left() == [names[0], *names[4:]]
    assert sorted(prune(root, keep=0, grace_seconds=600)) == names[4:6]
    assert left() == [names[0], names[6]]  # current, and the newest (young) one
