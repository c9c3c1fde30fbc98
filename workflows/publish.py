"""Publish the dashboard's marts as a read-only snapshot after each successful transform.

DuckDB lets one process write a database file and nobody else open it meanwhile, so a dashboard that
queried ``warehouse.duckdb`` directly would stop answering whenever a load or a transform runs. Instead the
publish step (after the transform) copies the marts the dashboard reads into Parquet partition files, writes
a new version (a small manifest naming the files of each mart, and ``build.json``), then switches a one-line
``CURRENT`` pointer to it with an atomic rename. Readers resolve ``CURRENT`` and read immutable files; a
half-written version is never visible, and a reader that resolved the previous version keeps reading it while
it is kept (the newest few, and anything younger than a grace period).

A publish writes only the partitions whose days changed since the last one (the days the load ledger
recorded after the watermark kept in the previous version's ``build.json``, and for window marts every later
day too) and names the previous version's files for the rest, so its cost follows the changed days, not the
history. It writes everything when there is no previous version, after a full refresh, or when asked.

Each version also carries ``build.json``: the marts' row counts and date ranges, the dbt build's test
results (``run_results.json``), source freshness (the transform's ``freshness.json``) and the load ledger per dataset and day,
which the dashboard's quality page shows. On Snowflake the marts stay in Snowflake (the dashboard reads them
through a read-only role) and only ``build.json`` is published, to the lake under ``_smelt/builds/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows import logs
from workflows.marts_contract import (
    BUILD_FILE,
    CURRENT,
    LAKE_BUILDS_PREFIX,
    MANIFEST_FILE,
    PARTS_DIR,
    PUBLISHED_MARTS,
    RUNS_DIR,
    MartSpec,
    current_version,
    part_path,
    partition_days,
    partition_key,
    read_manifest,
    snapshot_folder,
)
from workflows.settings import Settings
from workflows.warehouse.increment import Increment, increment_since

if TYPE_CHECKING:  # the dashboard imports this module for its contract: it loads no warehouse code
    from workflows.warehouse import Warehouse

log = logs.get_logger("smelt.publish")

#: Versions kept besides the current one, and how long any version is kept after it was replaced.
KEEP_VERSIONS = 3
GRACE_SECONDS = 600.0
#: Rows per Parquet row group: about one underlying-day of a chain is 500 rows, so one group spans a few
#: hundred underlying-days and a point query decodes little more than it needs.
ROW_GROUP_SIZE = 50_000
#: Folders of the snapshot that are not versions: the shared partition files, and the runs' reports (decision 100).
NOT_VERSIONS = frozenset({PARTS_DIR, RUNS_DIR})
#: The staged splits: a split that applies changes the split-adjusted bars of every earlier day.
STAGED_SPLITS = "staging.stg_polygon__stock_splits"


class PublishError(RuntimeError):
    """The snapshot could not be written; the previous one stays current, and a retry may succeed."""


@dataclass(frozen=True)
class PublishReport:
    """What a publish did: ``bytes`` and ``written`` count the files it wrote, ``reused`` those it kept."""

    version: str
    path: str
    rows: dict[str, int]
    bytes: int
    seconds: float
    full: bool = True
    days: tuple[dt.date, ...] = ()  # the changed days the ledger named (every day for a full publish)
    written: int = 0
    reused: int = 0


@dataclass(frozen=True)
class Scope:
    """Which partitions a publish rewrites: all of them (``full``, with its reason), or the increment's days
    (and later ones for window marts), plus the marts in ``whole`` rewritten entirely."""

    increment: Increment
    full: bool
    reason: str
    whole: frozenset[str] = field(default_factory=frozenset)
    watermark: dt.datetime | None = None  # what the next publish starts from
    invocation: str | None = None  # the dbt invocation whose marts this publishes


def snapshot_root(settings: Settings) -> Path:
    """Where the embedded mode keeps its snapshot versions: ``$SMELT_HOME/marts-snapshot``."""
    return snapshot_folder(settings.home)


def new_version(now: dt.datetime | None = None) -> str:
    """A sortable, unique version name: UTC time to the microsecond plus a random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def publish(
    settings: Settings,
    *,
    warehouse: Callable[[], Warehouse] | None = None,
    target_dir: Path | None = None,
    full: bool = False,
) -> PublishReport:
    """Publish after a successful ``dbt build``; ``target_dir`` holds its ``run_results.json``.

    ``warehouse`` opens the warehouse the marts are read from (a run's resources), by default the configured
    one. ``full`` rewrites every partition (a full refresh is also recognised from ``run_results.json``).
    """
    from workflows.warehouse import open_warehouse

    target = target_dir or settings.home / "dbt" / "target"
    started = time.perf_counter()
    with logs.bound(step="publish"):
        if settings.warehouse == "duckdb":
            report = _publish_duckdb(
                settings, warehouse or (lambda: open_warehouse(settings)), target, started, full
            )
        else:
            report = _publish_build_only(
                settings, warehouse or (lambda: open_warehouse(settings)), target, started
            )
        log.info("snapshot published", version=report.version, path=report.path, rows=sum(report.rows.values()),
                 bytes=report.bytes, seconds=report.seconds, full=report.full, days=len(report.days),
                 written=report.written, reused=report.reused)  # fmt: skip
        return report


# --------------------------------------------------------------------------------------------- duckdb


def _publish_duckdb(
    settings: Settings, open_marts: Callable[[], Warehouse], target: Path, started: float, full: bool
) -> PublishReport:
    import duckdb

    root = snapshot_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    previous = current_version(root)
    before = read_manifest(root, previous) if previous else None
    version = new_version()
    staging = root / f".tmp-{version}"
    staging.mkdir()
    try:
        with open_marts() as warehouse:  # waits for another writer's lock, like the loader
            scope = _scope(warehouse, root, previous, before, target, full)
            marts = {
                spec.name: _publish_mart(warehouse, spec, scope, _partitions(before, spec), staging, version)
                for spec in PUBLISHED_MARTS
            }
            loads = _ledger(warehouse)
        written = _new_files(marts, version)
        build = _build_summary(version, settings, target, _mart_stats(marts), loads)
        build["publish"] = _publish_record(scope, previous, marts, version)
        (staging / MANIFEST_FILE).write_text(json.dumps({"version": version, "marts": marts}, indent=1))
        (staging / BUILD_FILE).write_text(json.dumps(build, indent=1, default=str))
        size = _adopt_parts(staging, root, written)  # unreferenced until the version below exists
        _fsync_tree(staging)
        staging.rename(root / version)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"publish: could not snapshot the marts into {root}: {exc}") from exc
    _switch_current(root, version)
    prune(root)
    size += sum(p.stat().st_size for p in (root / version).iterdir())
    rows = {name: int(mart["rows"]) for name, mart in marts.items()}
    kept = [p for mart in marts.values() for p in mart["partitions"].values() if p["file"] not in written]
    return PublishReport(version, str(root / version), rows, size, round(time.perf_counter() - started, 2),
                         full=scope.full, days=scope.increment.days, written=len(written),
                         reused=len(kept))  # fmt: skip


def _scope(
    warehouse: Warehouse,
    root: Path,
    previous: str | None,
    before: Mapping[str, Any] | None,
    target: Path,
    full: bool,
) -> Scope:
    """Decide what this publish rewrites, and the watermark the next one starts from.

    The watermark is the newest ledger row seen, but never later than the start of the dbt invocation whose
    marts are published: a load that lands while (or after) the build runs is then redone by the next
    publish, after the build that includes it, instead of being skipped as already published.
    """
    results = _read_json(target / "run_results.json") or {}
    meta, args = results.get("metadata") or {}, results.get("args") or {}
    invocation = meta.get("invocation_id")
    build_started = _timestamp(meta.get("invocation_started_at"))
    last = (_read_json(root / previous / BUILD_FILE) or {}).get("publish", {}) if previous else {}
    since = _timestamp(last.get("watermark"))
    if full:
        reason = "asked"
    elif previous is None:
        reason = "no earlier version"
    elif before is None:
        reason = "the earlier version has no partitions"
    elif since is None:
        reason = "the earlier version has no watermark"
    elif args.get("full_refresh") and invocation != last.get("invocation"):
        reason = "a full refresh rebuilt the marts"
    else:
        reason = ""
    increment = increment_since(warehouse, None if reason else since)
    watermark = increment.watermark
    if watermark is not None and build_started is not None:
        watermark = min(watermark, build_started)
    whole = frozenset() if reason else _split_marts(warehouse, since, last.get("as_of"))
    # a mart the previous version did not publish yet (one added to the contract since) is written whole
    whole |= {
        spec.name for spec in PUBLISHED_MARTS if before is not None and spec.name not in before["marts"]
    }
    return Scope(increment, bool(reason), reason, whole, watermark, invocation)


def _split_marts(warehouse: Warehouse, since: dt.datetime | None, as_of: str | None) -> frozenset[str]:
    """The marts to rewrite whole because a split now applies that did not before: one loaded since the
    watermark, or one whose execution date the newest bar has reached since the last publish. Either changes
    the split-adjusted bars of every earlier day of its ticker."""
    try:
        [(count,)] = warehouse.fetch(
            f"SELECT count(*) FROM {STAGED_SPLITS} "
            "WHERE execution_date <= (SELECT max(trade_date) FROM marts.mart_stock_daily) "
            "AND (_loaded_at > ?::timestamptz OR execution_date > ?::date)",
            [since or dt.datetime.min.replace(tzinfo=dt.UTC), as_of or "0001-01-01"],
        )
    except Exception as exc:  # the staging model is not built (yet): rewriting is always correct
        log.warning(
            "publish: cannot see the staged splits, mart_stock_daily is rewritten whole", error=str(exc)
        )
        return frozenset({"mart_stock_daily"})
    return frozenset({"mart_stock_daily"}) if count else frozenset()


def _partitions(manifest: Mapping[str, Any] | None, spec: MartSpec) -> dict[str, dict[str, Any]]:
    if manifest is None:
        return {}
    return dict(manifest["marts"].get(spec.name, {}).get("partitions", {}))


def _publish_mart(
    warehouse: Warehouse,
    spec: MartSpec,
    scope: Scope,
    before: Mapping[str, dict[str, Any]],
    staging: Path,
    version: str,
) -> dict[str, Any]:
    """Write the mart's changed partitions into ``staging``; keep the previous version's files for the rest."""
    redo = _redo(warehouse, spec, scope, before)
    parts = {key: entry for key, entry in before.items() if key not in redo}
    for key in sorted(redo):
        entry = _write_partition(warehouse, spec, key, staging, version)
        if entry is not None:  # a day without rows any more has no partition
            parts[key] = entry
    mart: dict[str, Any] = {"partitions": dict(sorted(parts.items()))}
    mart["rows"] = sum(int(p["rows"]) for p in parts.values())
    if not parts:  # the columns still have to be readable
        mart["empty"] = _write_empty(warehouse, spec, staging, version)
    return mart


def _redo(warehouse: Warehouse, spec: MartSpec, scope: Scope, before: Mapping[str, Any]) -> set[str]:
    """The partition keys to write again: every one for a full publish, else those of the changed days, and
    for a window mart every partition from the first changed day on (its later days read the earlier)."""
    if scope.full or spec.name in scope.whole:
        return set(before) | {partition_key(spec, d) for d in _mart_days(warehouse, spec, None)}
    days = set(scope.increment.days)
    if not days:
        return set()
    first = min(days)
    if spec.window:
        days |= set(_mart_days(warehouse, spec, first))
        return {partition_key(spec, d) for d in days} | {k for k in before if partition_days(k)[1] >= first}
    return {partition_key(spec, d) for d in days}


def _mart_days(warehouse: Warehouse, spec: MartSpec, first: dt.date | None) -> list[dt.date]:
    where, params = ("WHERE trade_date >= ?", [first]) if first else ("", [])
    rows = warehouse.fetch(f"SELECT DISTINCT trade_date FROM marts.{spec.name} {where}", params)
    return [_as_date(day) for (day,) in rows]


def _write_partition(
    warehouse: Warehouse, spec: MartSpec, key: str, staging: Path, version: str
) -> dict[str, Any] | None:
    relative = part_path(spec.name, key, version)
    path = staging / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    first, last = partition_days(key)
    order = ", ".join(spec.order_by)
    # Names come from PUBLISHED_MARTS and dates from the partition key, never from input; the path is ours.
    [(rows,)] = warehouse.fetch(
        f"COPY (SELECT * FROM marts.{spec.name} WHERE trade_date BETWEEN DATE '{first}' AND DATE '{last}' "
        f"ORDER BY {order}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    )
    if not rows:
        path.unlink(missing_ok=True)
        return None
    [(low, high, sources)] = warehouse.fetch(
        "SELECT min(trade_date), max(trade_date), list(DISTINCT source ORDER BY source) FROM read_parquet(?)",
        [str(path)],
    )
    return {"file": relative, "rows": int(rows), "first_date": str(low), "last_date": str(high),
            "sources": list(sources or []), "bytes": path.stat().st_size}  # fmt: skip


def _write_empty(warehouse: Warehouse, spec: MartSpec, staging: Path, version: str) -> str:
    relative = f"{PARTS_DIR}/{spec.name}/empty-{version}.parquet"
    path = staging / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    warehouse.fetch(f"COPY (SELECT * FROM marts.{spec.name} LIMIT 0) TO '{path}' (FORMAT parquet)")
    return relative


def _new_files(marts: Mapping[str, Mapping[str, Any]], version: str) -> list[str]:
    """The files this version wrote (their names carry the version), relative to the snapshot folder."""
    files = [p["file"] for mart in marts.values() for p in mart["partitions"].values()]
    files += [mart["empty"] for mart in marts.values() if "empty" in mart]
    return sorted(f for f in files if f.endswith(f"-{version}.parquet"))


def _adopt_parts(staging: Path, root: Path, files: Iterable[str]) -> int:
    """Move the new partition files from ``staging`` into the shared folder; returns their bytes."""
    size = 0
    for relative in files:
        source, target = staging / relative, root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as handle:
            os.fsync(handle.fileno())
        size += source.stat().st_size
        os.rename(source, target)
    shutil.rmtree(staging / PARTS_DIR, ignore_errors=True)
    return size


def _mart_stats(marts: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows, date range and sources of each whole mart, from its partitions' entries (no file is read)."""
    stats: dict[str, dict[str, Any]] = {}
    for name, mart in marts.items():
        parts = list(mart["partitions"].values())
        stats[name] = {
            "rows": sum(int(p["rows"]) for p in parts),
            "first_date": min((p["first_date"] for p in parts), default=None),
            "last_date": max((p["last_date"] for p in parts), default=None),
            "sources": sorted({s for p in parts for s in p["sources"]}),
        }
    return stats


def _publish_record(
    scope: Scope, previous: str | None, marts: Mapping[str, Mapping[str, Any]], version: str
) -> dict[str, Any]:
    """What the next publish starts from (watermark, the newest bar day) and what this one did."""
    written = _new_files(marts, version)
    return {
        "previous": previous,
        "full": scope.full,
        "reason": scope.reason or None,
        "watermark": scope.watermark.isoformat() if scope.watermark else None,
        "invocation": scope.invocation,
        "as_of": _mart_stats(marts)["mart_stock_daily"]["last_date"],
        "days": [d.isoformat() for d in scope.increment.days] if not scope.full else "all",
        "whole": sorted(scope.whole),
        "written": len(written),
    }


def _ledger(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Manifests and raw rows loaded per dataset and trading day (aggregated in the warehouse).

    ``"ROWS"`` is quoted because ROWS is reserved on Snowflake, where the ledger's column is upper case; DuckDB
    matches quoted names without regard to case. Values are made JSON's plain types on both warehouses."""
    rows = warehouse.fetch(
        'SELECT dataset, trade_date, count(*), sum("ROWS"), max(loaded_at) '
        "FROM raw.smelt_loads GROUP BY dataset, trade_date ORDER BY dataset, trade_date"
    )
    return [
        {"dataset": str(dataset), "trade_date": str(_as_date(day)), "manifests": int(manifests),
         "rows": int(total or 0), "last_loaded_at": str(loaded_at)}
        for dataset, day, manifests, total, loaded_at in rows
    ]  # fmt: skip


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch_current(root: Path, version: str) -> None:
    """Point ``CURRENT`` at ``version`` with one atomic rename: readers see the old or the new name."""
    tmp = root / f".{CURRENT}.{version}"
    tmp.write_text(version + "\n")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, root / CURRENT)


def prune(root: Path, keep: int = KEEP_VERSIONS, grace_seconds: float = GRACE_SECONDS) -> list[str]:
    """Delete old versions: never the current one, the ``keep`` newest others, or any younger than the grace;
    then the partition files no remaining version names (past the grace too: a publish under way has written
    files its version does not name yet).

    A dashboard process that resolved a version just before the switch keeps reading its files for at most
    one query; the grace period covers that with a wide margin.
    """
    current = current_version(root)
    now = _filesystem_now(root)
    versions = sorted(
        (
            p
            for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name not in NOT_VERSIONS
        ),
        reverse=True,
    )
    removed = []
    for path in [p for p in versions if p.name != current][keep:]:
        if now - path.stat().st_mtime > grace_seconds:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    for stale in root.glob(".tmp-*"):  # an interrupted publish
        if now - stale.stat().st_mtime > grace_seconds:
            shutil.rmtree(stale, ignore_errors=True)
    _prune_parts(root, [p.name for p in versions if p.name not in removed], now, grace_seconds)
    return removed


def _prune_parts(root: Path, versions: list[str], now: float, grace_seconds: float) -> None:
    parts = root / PARTS_DIR
    if not parts.is_dir():
        return
    referenced: set[Path] = set()
    for version in versions:
        manifest = read_manifest(root, version)
        for mart in (manifest or {}).get("marts", {}).values():
            referenced.update(root / p["file"] for p in mart["partitions"].values())
            if "empty" in mart:
                referenced.add(root / mart["empty"])
    for path in parts.rglob("*.parquet"):
        if path not in referenced and now - path.stat().st_mtime > grace_seconds:
            path.unlink(missing_ok=True)
    for folder in sorted((p for p in parts.rglob("*") if p.is_dir()), reverse=True):  # deepest first
        if not any(folder.iterdir()):
            folder.rmdir()


def _filesystem_now(root: Path) -> float:
    """ "Now" on the clock that stamped the versions' mtimes: a host clock that differs from the file system's
    (a skewed network mount, a test's fixed clock) cannot make a version a reader still holds look old."""
    with tempfile.NamedTemporaryFile(dir=root, prefix=".clock-") as probe:
        return os.fstat(probe.fileno()).st_mtime


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# --------------------------------------------------------------------------------------------- snowflake


def _publish_build_only(
    settings: Settings, open_marts: Callable[[], Warehouse], target: Path, started: float
) -> PublishReport:
    """Snowflake: the marts are read in place; publish the build summary to the lake for the quality page,
    with what a snapshot's carries (each mart's rows, days and sources, the load ledger per dataset and day)
    counted in the warehouse."""
    from workflows.lake import open_storage

    version = new_version()
    with open_marts() as warehouse:
        marts = {spec.name: _mart_stats_in_place(warehouse, spec) for spec in PUBLISHED_MARTS}
        loads = _ledger(warehouse)
    build = _build_summary(version, settings, target, marts, loads)
    body = json.dumps(build, indent=1, default=str).encode()
    storage = open_storage(settings.lake, settings.s3_endpoint_url)
    storage.put_exclusive(f"{LAKE_BUILDS_PREFIX}/{version}/{BUILD_FILE}", body)
    pointer = settings.home / f".{CURRENT}.{version}"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(version + "\n")
    try:
        storage.put_file(pointer, f"{LAKE_BUILDS_PREFIX}/{CURRENT}")
    finally:
        pointer.unlink(missing_ok=True)
    where = f"{settings.lake}/{LAKE_BUILDS_PREFIX}/{version}"
    rows = {name: int(mart["rows"]) for name, mart in marts.items()}
    return PublishReport(version, where, rows, len(body), round(time.perf_counter() - started, 2))


def _mart_stats_in_place(warehouse: Warehouse, spec: MartSpec) -> dict[str, Any]:
    """A mart's rows, date range and sources as :func:`_mart_stats` gives them for a snapshot."""
    found = warehouse.fetch(
        f"SELECT source, count(*), min(trade_date), max(trade_date) FROM marts.{spec.name} GROUP BY source"
    )
    return {
        "rows": sum(int(n) for _, n, _, _ in found),
        "first_date": min((str(_as_date(low)) for _, _, low, _ in found), default=None),
        "last_date": max((str(_as_date(high)) for _, _, _, high in found), default=None),
        "sources": sorted(str(source) for source, _, _, _ in found if source is not None),
    }


# --------------------------------------------------------------------------------------------- build.json


def _build_summary(
    version: str,
    settings: Settings,
    target: Path,
    marts: Mapping[str, Any],
    loads: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "version": version,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "warehouse": settings.warehouse,
        "source": settings.source,
        # the simulator's pinned day, if any: the dashboard judges freshness on that clock (decision 102)
        "sim_now": settings.simulator.now.isoformat() if settings.simulator.now else None,
        "marts": dict(marts),
        "loads": loads,
        "tests": _test_results(target / "run_results.json"),
        "freshness": _freshness(target / "freshness.json"),
    }


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _test_results(path: Path) -> list[dict[str, Any]]:
    """One entry per data test of the last ``dbt build``: name, model, status, failing rows."""
    data = _read_json(path)
    out = []
    for result in (data or {}).get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        parts = unique_id.split(".")
        out.append({
            "test": parts[2] if len(parts) > 2 else unique_id,
            "kind": "unit" if unique_id.startswith("unit_test.") else "data",
            "status": result.get("status"),
            "failures": result.get("failures"),
            "seconds": round(float(result.get("execution_time") or 0.0), 3),
            "message": (result.get("message") or "")[:300],
        })  # fmt: skip
    return out


def _freshness(path: Path) -> list[dict[str, Any]]:
    """The transform's source freshness per source table (workflows/freshness.py ``as_records``)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
