"""The marts snapshot: partition files shared across versions, an atomic CURRENT switch, a publish that writes
only the days that changed (and what follows them in window marts), the build summary, pruning, and a failed
or interrupted publish that leaves the previous snapshot current and nothing half-written."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dashboard.marts import SnapshotSource
from tests.dashboard.support import END, SIM_NOW, START, UNDERLYINGS
from tests.dbt.test_published_marts import MARTS_YAML
from workflows import publish as publishing
from workflows.marts_contract import (
    BUILD_FILE,
    CURRENT,
    MARTS_BY_NAME,
    PARTS_DIR,
    PUBLISHED_MARTS,
    current_version,
    mart_files,
    partition_key,
    read_manifest,
)
from workflows.publish import NOT_VERSIONS, PublishError, prune, publish, snapshot_root
from workflows.settings import Settings, load_settings

DAY_MARTS = [m.name for m in PUBLISHED_MARTS if m.partition == "day"]
#: The trading day before END (Thanksgiving, 2026-11-26, between them).
DAY_BEFORE_END = dt.date(2026, 11, 25)
MONTH_MARTS = [m.name for m in PUBLISHED_MARTS if m.partition == "month"]


# --------------------------------------------------------------------------------------------- helpers


def current_files(settings: Settings) -> dict[str, dict[str, str]]:
    """Each mart's partition key -> file (relative to the snapshot folder) in the current version."""
    root = snapshot_root(settings)
    manifest = read_manifest(root, str(current_version(root)))
    assert manifest is not None
    return {name: {k: p["file"] for k, p in m["partitions"].items()} for name, m in manifest["marts"].items()}


def last_publish(settings: Settings) -> dict[str, Any]:
    root = snapshot_root(settings)
    build: dict[str, Any] = json.loads((root / str(current_version(root)) / BUILD_FILE).read_text())
    return build


def assert_snapshot_is_the_warehouse(settings: Settings) -> None:
    """Every mart of the current version holds exactly the warehouse's rows: none missing, none extra."""
    root = snapshot_root(settings)
    files = mart_files(root, str(current_version(root)))
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        for spec in PUBLISHED_MARTS:
            snapshot = f"read_parquet({[str(p) for p in files[spec.name]]!r}, hive_partitioning = false)"
            warehouse = f"marts.{spec.name}"
            for left, right in ((warehouse, snapshot), (snapshot, warehouse)):
                [(different,)] = con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})"
                ).fetchall()
                assert different == 0, f"{spec.name}: {different} rows of {left} are not in {right}"


def change(settings: Settings, sql: str, day: dt.date, *, built: bool = True) -> None:
    """Change the warehouse's models on ``day`` as a load and a transform would: the statement, a ledger row
    for the day, and (``built``) a new dbt invocation started after that load, as run_results.json records."""
    with duckdb.connect(str(settings.duckdb.path)) as con:
        con.execute(sql)
        con.execute(  # on the loader's clock (Python's, the session's fixed one), not DuckDB's now()
            "INSERT INTO raw.smelt_loads VALUES (?, 'option_snapshots', ?, 1, 1, 'test', ?)",
            [f"test/{uuid.uuid4()}", day, dt.datetime.now(dt.UTC)],
        )
    if built:
        stamp_build(settings)


def stamp_build(settings: Settings, **args: Any) -> None:
    path = settings.home / "dbt" / "target" / "run_results.json"
    results = json.loads(path.read_text())
    results["metadata"]["invocation_id"] = str(uuid.uuid4())
    results["metadata"]["invocation_started_at"] = dt.datetime.now(dt.UTC).isoformat()
    results["args"].update(args)
    path.write_text(json.dumps(results))


def days_after(files: dict[str, str], day: dt.date) -> set[str]:
    return {k for k in files if k >= f"trade_date={day}"}


# --------------------------------------------------------------------------------------------- layout


def test_a_snapshot_holds_every_mart_the_dashboard_reads(built_home) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(built_home)
    version = current_version(root)
    folder = root / str(version)
    files = mart_files(root, str(version))
    assert_snapshot_is_the_warehouse(built_home)
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as warehouse:
        for spec in PUBLISHED_MARTS:
            assert warehouse.execute(f"SELECT count(*) FROM marts.{spec.name}").fetchone()[0] > 0
    # Each file has exactly the columns of the mart's dbt contract: what the dashboard may read.
    contracts = {
        m["name"]: [c["name"] for c in m["columns"]] for m in yaml.safe_load(MARTS_YAML.read_text())["models"]
    }
    for spec in PUBLISHED_MARTS:
        for parquet in files[spec.name]:
            columns = [
                row[0] for row in duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()
            ]
            assert sorted(columns) == sorted(contracts[spec.name]), parquet
    build = json.loads((folder / BUILD_FILE).read_text())
    assert build["version"] == version and build["source"] == "simulator"
    assert set(build["marts"]) == {m.name for m in PUBLISHED_MARTS}
    # the summary covers the whole snapshot, not only the day the last publish wrote
    assert build["marts"]["mart_option_chain"]["first_date"] == str(START)
    assert build["marts"]["mart_option_chain"]["last_date"] == str(END)
    assert build["marts"]["mart_option_chain"]["sources"] == ["simulator"]
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as warehouse:
        for spec in PUBLISHED_MARTS:
            [(rows,)] = warehouse.execute(f"SELECT count(*) FROM marts.{spec.name}").fetchall()
            assert build["marts"][spec.name]["rows"] == rows, spec.name
    assert build["tests"] and {t["status"] for t in build["tests"]} == {"pass"}
    freshness = {f["source"]: f for f in build["freshness"]}
    assert set(freshness) >= {"polygon.polygon_stock_bars", "polygon.polygon_option_snapshots"}
    # judged from the ledger (decision 123): the newest stock-bar load is the ledger's
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as warehouse:
        [(newest,)] = warehouse.execute(
            "SELECT max(loaded_at) FROM raw.smelt_loads WHERE dataset = 'stock_bars' AND files > 0"
        ).fetchall()
    bars = freshness["polygon.polygon_stock_bars"]
    judged = dt.datetime.fromisoformat(bars["max_loaded_at"]).replace(tzinfo=None)
    assert judged == newest.replace(tzinfo=None)
    assert bars["status"] in {"pass", "warn"} and "threshold" in bars["message"]
    datasets = {row["dataset"] for row in build["loads"]}
    assert datasets >= {"stock_bars", "option_contracts", "option_snapshots"}


def test_rows_are_sorted_for_pruning(built_home) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(built_home)
    files = mart_files(root, str(current_version(root)))
    for spec in PUBLISHED_MARTS:
        order = ", ".join(spec.order_by[:2])
        for path in files[spec.name]:
            keys = duckdb.connect().execute(f"SELECT {order} FROM read_parquet('{path}')").fetchall()
            assert keys == sorted(keys), path


def test_a_query_for_one_day_opens_that_days_file_only(built_home) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's views read day partitions by their folder names: a one-day query skips every other
    file without opening it (bound parameters included), and the day's file prunes by row group."""
    root = snapshot_root(built_home)
    source = SnapshotSource(root, check_seconds=0)
    days = len(mart_files(root, str(current_version(root)))["mart_option_chain"])
    plan = source.run(
        source.handle(),
        "EXPLAIN ANALYZE SELECT count(*) FROM mart_option_chain WHERE underlying = ? AND trade_date = ?",
        ["AAPL", END],
    )
    text = "\n".join(str(cell) for cell in plan.iloc[:, -1])
    assert days > 20 and f"Scanning Files: 1/{days}" in text


@pytest.fixture(scope="module")
def day_loaded_again(built_home: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    """A copy of the built home after `smelt run` of END once more (ingest, load, transform, publish: a new
    run's manifests for END), and the partition files of the version before it."""
    from workflows import steps

    home = tmp_path_factory.mktemp("again") / "home"
    shutil.copytree(built_home.home, home)
    settings = load_settings(home=home, underlyings=UNDERLYINGS, log_format="json", sim_now=SIM_NOW)
    before = current_files(settings)
    steps.run(steps.Resources.from_settings(settings), start=END, end=END, underlyings=UNDERLYINGS)
    return settings, before


def test_a_day_loaded_again_writes_only_its_own_partitions(day_loaded_again) -> None:  # type: ignore[no-untyped-def]
    """A run of one day through the pipeline: its publish writes that day's partitions and its month's, and
    names the previous version's very files for every other partition."""
    settings, before = day_loaded_again
    record = last_publish(settings)["publish"]
    assert record["full"] is False and record["days"] == [str(END)]
    after = current_files(settings)
    for name in after:
        expected = {partition_key(MARTS_BY_NAME[name], END)}
        assert after[name].keys() == before[name].keys(), name
        assert {key for key in after[name] if after[name][key] != before[name][key]} == expected, name
    assert record["written"] == len(PUBLISHED_MARTS)
    assert_snapshot_is_the_warehouse(settings)


# --------------------------------------------------------------------------------------------- increments


def test_incremental_publishes_keep_the_snapshot_equal_to_the_warehouse(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A sequence of changes: one day of a same-day mart, an earlier day that a window mart carries forward,
    a day that loses its rows. After each publish the snapshot is the warehouse, and untouched partitions are
    the very files of the version before."""
    publish(home_copy)  # the fixture's build again: nothing new, nothing written
    assert last_publish(home_copy)["publish"]["written"] == 0
    before = current_files(home_copy)

    day = dt.date(2026, 11, 10)
    change(home_copy, f"UPDATE intermediate.int_options__option_greeks_daily SET close = close + 1 "
                      f"WHERE trade_date = DATE '{day}'", day)  # fmt: skip
    report = publish(home_copy)
    assert report.days == (day,) and not report.full
    assert_snapshot_is_the_warehouse(home_copy)
    after = current_files(home_copy)
    for name in DAY_MARTS:
        assert {k for k in after[name] if after[name][k] != before[name][k]} == {f"trade_date={day}"}, name
    for name in MONTH_MARTS:
        changed = {k for k in after[name] if after[name][k] != before[name][k]}
        assert changed == {"month-2026-11"}, name

    # an earlier day's ATM IV: the IV rank of that day and of every later day changes
    early = dt.date(2026, 10, 28)
    change(home_copy, "UPDATE intermediate.int_options__atm_iv_daily SET atm_implied_volatility_30d = "
                      f"atm_implied_volatility_30d * 3 WHERE trade_date = DATE '{early}'", early)  # fmt: skip
    before = after
    publish(home_copy)
    assert_snapshot_is_the_warehouse(home_copy)
    after = current_files(home_copy)
    rank = "mart_options_iv_rank"
    assert {k for k in after[rank] if after[rank][k] != before[rank][k]} == {
        "month-2026-10",
        "month-2026-11",
    }
    chain = "mart_option_chain"
    assert {k for k in after[chain] if after[chain][k] != before[chain][k]} == {f"trade_date={early}"}

    # a day that has no rows any more has no partition any more
    gone = dt.date(2026, 11, 3)
    change(home_copy, f"DELETE FROM intermediate.int_options__option_greeks_daily WHERE trade_date = DATE '{gone}'",
           gone)  # fmt: skip
    publish(home_copy)
    assert_snapshot_is_the_warehouse(home_copy)
    assert f"trade_date={gone}" not in current_files(home_copy)[chain]


def test_a_load_after_the_build_started_is_published_again(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A load that lands after the dbt build of the published marts began is not yet in them: the publish
    after the next build must still write its day, so the watermark stops at the build's start."""
    day = dt.date(2026, 11, 12)
    change(home_copy, "SELECT 1", day, built=False)  # loaded after the fixture's build began
    assert publish(home_copy).days == (day,)
    assert publish(home_copy).days == (day,)  # no build since: its marts may still be to come
    stamp_build(home_copy)  # a build that began after the load: the publish after it is the last to redo it
    assert publish(home_copy).days == (day,)
    assert publish(home_copy).days == ()


def test_a_split_that_applies_rewrites_the_stock_history(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A split changes the split-adjusted bars of every earlier day of its ticker: mart_stock_daily is
    written whole, the option marts are not."""
    publish(home_copy)
    before = current_files(home_copy)
    split = (
        "INSERT INTO staging.stg_polygon__stock_splits BY NAME SELECT 'test-split' AS split_id, 'AAPL' AS "
        "ticker, DATE '2026-11-20' AS execution_date, 1.0 AS split_from, 2.0 AS split_to, "
        f"TIMESTAMPTZ '{dt.datetime.now(dt.UTC).isoformat()}' AS _loaded_at"
    )
    change(home_copy, split, END)  # the split loaded with END's data
    report = publish(home_copy)
    after = current_files(home_copy)
    assert report.days == (END,) and last_publish(home_copy)["publish"]["whole"] == ["mart_stock_daily"]
    stock, chain = "mart_stock_daily", "mart_option_chain"
    assert not set(after[stock].values()) & set(before[stock].values())
    assert {k for k in after[chain] if after[chain][k] != before[chain][k]} == {f"trade_date={END}"}
    assert publish(home_copy).days == ()
    assert last_publish(home_copy)["publish"]["whole"] == []  # applied once, not on every publish


def test_a_full_refresh_republishes_everything(home_copy) -> None:  # type: ignore[no-untyped-def]
    publish(home_copy)
    before = current_files(home_copy)
    stamp_build(home_copy, full_refresh=True)  # what `smelt transform --full-refresh` leaves for publish
    report = publish(home_copy)
    assert report.full and last_publish(home_copy)["publish"]["reason"] == "a full refresh rebuilt the marts"
    after = current_files(home_copy)
    for name in after:
        assert after[name].keys() == before[name].keys()
        assert not set(after[name].values()) & set(before[name].values()), name
    assert_snapshot_is_the_warehouse(home_copy)
    assert not publish(home_copy).full  # the same full-refresh build is published whole once
    assert publish(home_copy, full=True).full  # `smelt publish --full`


def test_a_publish_over_the_one_file_layout_starts_over(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A snapshot written before partitions (one Parquet file per mart, no manifest) is still readable, and
    the next publish writes every partition."""
    root = snapshot_root(home_copy)
    legacy = "20260101T000000000000Z-000000"
    (root / legacy).mkdir()
    for name, paths in mart_files(root, str(current_version(root))).items():
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_parquet({[str(p) for p in paths]!r}, hive_partitioning = false)) "
            f"TO '{root / legacy / name}.parquet' (FORMAT parquet)"
        )
    (root / CURRENT).write_text(legacy + "\n")
    source = SnapshotSource(root, check_seconds=0)
    old = source.run(source.handle(), "SELECT count(*) AS n FROM mart_option_chain", [])
    report = publish(home_copy)
    assert report.full and report.reused == 0
    new = SnapshotSource(root, check_seconds=0)
    assert new.run(new.handle(), "SELECT count(*) AS n FROM mart_option_chain", []).equals(old)


# --------------------------------------------------------------------------------------------- readers, failures


def test_publishing_switches_current_and_keeps_readers_safe(home_copy) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    first = current_version(root)
    report = publish(home_copy)
    assert current_version(root) == report.version != first
    assert (root / str(first)).is_dir()  # the previous version stays for readers that resolved it
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary left behind
    assert (root / CURRENT).read_text() == report.version + "\n"


def test_a_reader_keeps_its_version_while_newer_ones_are_published(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A reader that resolved a version reads that version whole while later ones are published and pruned;
    a reader that resolves during a publish gets the old version or the new, never a mix."""
    root = snapshot_root(home_copy)
    holder = SnapshotSource(root, check_seconds=3600)
    held = holder.handle()
    count = "SELECT count(*) AS n, round(sum(close), 4) AS s FROM mart_option_chain"  # any summation order
    seen_before = holder.run(held, count, [])

    totals: dict[str, tuple[int, float]] = {}
    observed: list[tuple[str, int, float]] = []
    stop = threading.Event()

    def read() -> None:
        source = SnapshotSource(root, check_seconds=0)
        while not stop.is_set():
            handle = source.handle()
            n, s = source.run(handle, count, []).iloc[0]
            observed.append((handle.version, int(n), float(s)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for offset in range(3):
            day = DAY_BEFORE_END - dt.timedelta(days=offset)
            change(home_copy, f"DELETE FROM intermediate.int_options__option_greeks_daily WHERE trade_date = DATE "
                              f"'{day}' AND underlying = 'AAPL'", day)  # fmt: skip
            version = publish(home_copy).version
            snapshot = SnapshotSource(root, check_seconds=0)
            n, s = snapshot.run(snapshot.handle(), count, []).iloc[0]
            totals[version] = (int(n), float(s))
            prune(root)
    finally:
        stop.set()
        reader.join()
    totals[held.version] = (int(seen_before["n"].iloc[0]), float(seen_before["s"].iloc[0]))
    assert len({n for n, _ in totals.values()}) == 4  # every version differs from the others
    assert observed and all((n, s) == totals[v] for v, n, s in observed if v in totals)
    assert {v for v, _, _ in observed} <= set(totals)
    assert holder.run(held, count, []).equals(seen_before)  # the held version is still whole


def test_a_failed_publish_changes_nothing(home_copy) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    before = current_version(root)
    versions = sorted(p.name for p in root.iterdir())
    parts = sorted(str(p) for p in (root / PARTS_DIR).rglob("*"))
    with duckdb.connect(str(home_copy.duckdb.path)) as con:
        con.execute("DROP VIEW marts.mart_options_max_pain")
    with pytest.raises(PublishError, match="could not snapshot the marts"):
        publish(home_copy, full=True)
    assert current_version(root) == before
    assert sorted(p.name for p in root.iterdir()) == versions
    assert sorted(str(p) for p in (root / PARTS_DIR).rglob("*")) == parts


class Killed(BaseException):
    """A process killed mid-publish: nothing of the publish's own cleanup runs."""


@pytest.fixture
def killed_after_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The publish dies once its new partition files are in the shared folder, before its version exists."""
    adopt = publishing._adopt_parts

    def adopt_then_die(staging: Path, root: Path, files: Any) -> int:
        adopt(staging, root, files)
        raise Killed

    monkeypatch.setattr(publishing, "_adopt_parts", adopt_then_die)
    yield
    monkeypatch.undo()


def test_a_crash_mid_publish_leaves_the_old_version_current(home_copy, killed_after_files) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    before = current_version(root)
    source = SnapshotSource(root, check_seconds=0)
    count = "SELECT count(*) AS n FROM mart_option_chain"
    rows = source.run(source.handle(), count, [])
    files_before = set((root / PARTS_DIR).rglob("*.parquet"))
    day = dt.date(2026, 11, 5)
    change(home_copy, f"DELETE FROM intermediate.int_options__option_greeks_daily WHERE trade_date = DATE '{day}'",
           day)  # fmt: skip
    with pytest.raises(Killed):
        publish(home_copy)
    assert current_version(root) == before
    assert source.handle().version == before and source.run(source.handle(), count, []).equals(rows)
    versions = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")} - NOT_VERSIONS
    assert all(read_manifest(root, v) is not None or v == before for v in versions)
    orphans = list(set((root / PARTS_DIR).rglob("*.parquet")) - files_before)
    assert orphans  # the dead publish's files, named by no version
    old = (root / CURRENT).stat().st_mtime - 3600
    for path in orphans:
        os.utime(path, (old, old))
    prune(root)
    assert not [p for p in orphans if p.exists()]  # pruned once past the grace period
    assert all(p.exists() for paths in mart_files(root, str(before)).values() for p in paths)


def test_the_next_publish_after_a_crash_redoes_its_days(home_copy, killed_after_files, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    day = dt.date(2026, 11, 6)
    change(home_copy, f"UPDATE intermediate.int_options__option_greeks_daily SET close = close * 2 "
                      f"WHERE trade_date = DATE '{day}'", day)  # fmt: skip
    with pytest.raises(Killed):
        publish(home_copy)
    monkeypatch.undo()
    assert publish(home_copy).days == (day,)  # the crashed publish did not move the watermark
    assert_snapshot_is_the_warehouse(home_copy)


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


def test_prune_deletes_only_files_no_kept_version_names(home_copy) -> None:  # type: ignore[no-untyped-def]
    root = snapshot_root(home_copy)
    kept_first = current_files(home_copy)
    for offset in range(2):
        day = DAY_BEFORE_END - dt.timedelta(days=7 * offset)
        change(home_copy, f"UPDATE intermediate.int_options__option_greeks_daily SET close = close + 1 "
                          f"WHERE trade_date = DATE '{day}'", day)  # fmt: skip
        publish(home_copy)
    old = (root / CURRENT).stat().st_mtime - 3600
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    prune(root, keep=0, grace_seconds=600)
    named = {root / f for files in current_files(home_copy).values() for f in files.values()}
    on_disk = set((root / PARTS_DIR).rglob("*.parquet"))
    assert on_disk == named  # the replaced days' files went; every file the current version names stayed
    assert {root / f for files in kept_first.values() for f in files.values()} - on_disk
    assert_snapshot_is_the_warehouse(home_copy)


def test_a_mart_new_to_the_contract_is_published_whole(home_copy) -> None:  # type: ignore[no-untyped-def]
    """A version written before a mart joined the contract (here mart_option_provenance) lacks it: the next
    publish writes all of its days, not only the changed ones, and the other marts only the changed day."""
    root = snapshot_root(home_copy)
    version = str(current_version(root))
    manifest = read_manifest(root, version)
    assert manifest is not None
    before = {
        name: {k: p["file"] for k, p in m["partitions"].items()} for name, m in manifest["marts"].items()
    }
    del manifest["marts"]["mart_option_provenance"]
    (root / version / "manifest.json").write_text(json.dumps(manifest))
    day = dt.date(2026, 11, 10)
    change(home_copy, f"UPDATE intermediate.int_options__option_greeks_daily SET close = close + 1 "
                      f"WHERE trade_date = DATE '{day}'", day)  # fmt: skip
    publish(home_copy)
    after = current_files(home_copy)
    assert set(after["mart_option_provenance"]) == set(before["mart_option_provenance"])
    assert len(after["mart_option_provenance"]) > 20  # every day of the build, not only the changed one
    changed = {
        k
        for k in after["mart_option_chain"]
        if after["mart_option_chain"][k] != before["mart_option_chain"][k]
    }
    assert changed == {f"trade_date={day}"}
    assert_snapshot_is_the_warehouse(home_copy)
