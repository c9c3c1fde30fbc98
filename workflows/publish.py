"""Publish the dashboard's marts as a read-only snapshot after each successful transform.

DuckDB lets one process write a database file and nobody else open it meanwhile, so a dashboard that
queried ``warehouse.duckdb`` directly would stop answering whenever a load or a transform runs. Instead the
publish step (after the transform) copies the marts the dashboard reads into a new versioned folder of Parquet files,
then switches a one-line ``CURRENT`` pointer to it with an atomic rename. Readers resolve ``CURRENT`` and
read immutable files; a half-written version is never visible, and a reader that resolved the previous
version keeps reading it while it is kept (the newest few, and anything younger than a grace period).

Each version also carries ``build.json``: the marts' row counts and date ranges, the dbt build's test
results (``run_results.json``), source freshness (``sources.json``) and the load ledger per dataset and day,
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows import logs
from workflows.marts_contract import (
    BUILD_FILE,
    CURRENT,
    LAKE_BUILDS_PREFIX,
    PUBLISHED_MARTS,
    MartSpec,
    current_version,
    snapshot_folder,
)
from workflows.settings import Settings

if TYPE_CHECKING:  # the dashboard imports this module for its contract: it loads no warehouse code
    from workflows.warehouse import Warehouse

log = logs.get_logger("smelt.publish")

#: Versions kept besides the current one, and how long any version is kept after it was replaced.
KEEP_VERSIONS = 3
GRACE_SECONDS = 600.0
#: Rows per Parquet row group: about one underlying-day of a chain is 500 rows, so one group spans a few
#: hundred underlying-days and a point query decodes little more than it needs.
ROW_GROUP_SIZE = 50_000


class PublishError(RuntimeError):
    """The snapshot could not be written; the previous one stays current, and a retry may succeed."""


@dataclass(frozen=True)
class PublishReport:
    version: str
    path: str
    rows: dict[str, int]
    bytes: int
    seconds: float


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
) -> PublishReport:
    """Publish after a successful ``dbt build``; ``target_dir`` holds its ``run_results.json``.

    ``warehouse`` opens the warehouse the marts are read from (a run's resources), by default the configured one.
    """
    from workflows.warehouse import open_warehouse

    target = target_dir or settings.home / "dbt" / "target"
    started = time.perf_counter()
    with logs.bound(step="publish"):
        if settings.warehouse == "duckdb":
            report = _publish_duckdb(
                settings, warehouse or (lambda: open_warehouse(settings)), target, started
            )
        else:
            report = _publish_build_only(settings, target, started)
        log.info("snapshot published", version=report.version, path=report.path, rows=sum(report.rows.values()),
                 bytes=report.bytes, seconds=report.seconds)  # fmt: skip
        return report


# --------------------------------------------------------------------------------------------- duckdb


def _publish_duckdb(
    settings: Settings, open_marts: Callable[[], Warehouse], target: Path, started: float
) -> PublishReport:
    import duckdb

    root = snapshot_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    version = new_version()
    staging = root / f".tmp-{version}"
    staging.mkdir()
    try:
        with open_marts() as warehouse:  # waits for another writer's lock, like the loader
            rows = {spec.name: _copy_mart(warehouse, spec, staging) for spec in PUBLISHED_MARTS}
            build = _build_summary(
                version, settings, target, _mart_stats(warehouse, staging), _ledger(warehouse)
            )
        (staging / BUILD_FILE).write_text(json.dumps(build, indent=1, default=str))
        _fsync_tree(staging)
        staging.rename(root / version)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"publish: could not snapshot the marts into {root}: {exc}") from exc
    _switch_current(root, version)
    prune(root)
    size = sum(p.stat().st_size for p in (root / version).iterdir())
    return PublishReport(version, str(root / version), rows, size, round(time.perf_counter() - started, 2))


def _copy_mart(warehouse: Warehouse, spec: MartSpec, folder: Path) -> int:
    path = folder / f"{spec.name}.parquet"
    order = ", ".join(spec.order_by)
    # Names come from PUBLISHED_MARTS, never from input; the path is ours.
    result = warehouse.fetch(
        f"COPY (SELECT * FROM marts.{spec.name} ORDER BY {order}) TO '{path}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    )
    return int(result[0][0]) if result else 0


def _mart_stats(warehouse: Warehouse, folder: Path) -> dict[str, dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = {}
    for spec in PUBLISHED_MARTS:
        [(rows, first, last, sources)] = warehouse.fetch(
            "SELECT count(*), min(trade_date), max(trade_date), list(DISTINCT source ORDER BY source) "
            "FROM read_parquet(?)",
            [str(folder / f"{spec.name}.parquet")],
        )
        stats[spec.name] = {"rows": rows, "first_date": first, "last_date": last, "sources": sources or []}
    return stats


def _ledger(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Manifests and raw rows loaded per dataset and trading day (aggregated in the warehouse)."""
    rows = warehouse.fetch(
        "SELECT dataset, trade_date, count(*) AS manifests, sum(rows) AS rows, max(loaded_at) AS last_loaded_at "
        "FROM raw.smelt_loads GROUP BY dataset, trade_date ORDER BY dataset, trade_date"
    )
    keys = ("dataset", "trade_date", "manifests", "rows", "last_loaded_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
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
    """Delete old versions: never the current one, the ``keep`` newest others, or any younger than the grace.

    A dashboard process that resolved a version just before the switch keeps reading its files for at most
    one query; the grace period covers that with a wide margin.
    """
    current = current_version(root)
    now = _filesystem_now(root)
    versions = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    removed = []
    for path in [p for p in versions if p.name != current][keep:]:
        if now - path.stat().st_mtime > grace_seconds:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    for stale in root.glob(".tmp-*"):  # an interrupted publish
        if now - stale.stat().st_mtime > grace_seconds:
            shutil.rmtree(stale, ignore_errors=True)
    return removed


def _filesystem_now(root: Path) -> float:
    """ "Now" on the clock that stamped the versions' mtimes: a host clock that differs from the file system's
    (a skewed network mount, a test's fixed clock) cannot make a version a reader still holds look old."""
    with tempfile.NamedTemporaryFile(dir=root, prefix=".clock-") as probe:
        return os.fstat(probe.fileno()).st_mtime


# --------------------------------------------------------------------------------------------- snowflake


def _publish_build_only(settings: Settings, target: Path, started: float) -> PublishReport:
    """Snowflake: the marts are read in place; publish the build summary to the lake for the quality page."""
    from workflows.lake import open_storage

    version = new_version()
    build = _build_summary(version, settings, target, {}, [])
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
    return PublishReport(version, where, {}, len(body), round(time.perf_counter() - started, 2))


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
        "marts": dict(marts),
        "loads": loads,
        "tests": _test_results(target / "run_results.json"),
        "freshness": _freshness(target / "sources.json"),
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
    """dbt source freshness per source table: newest load, age, status against its warn/error rules."""
    data = _read_json(path)
    out = []
    for result in (data or {}).get("results", []):
        unique_id = str(result.get("unique_id", ""))
        out.append({
            "source": ".".join(unique_id.split(".")[-2:]),
            "status": result.get("status"),
            "max_loaded_at": result.get("max_loaded_at"),
            "age_hours": round(float(result.get("max_loaded_at_time_ago_in_s") or 0.0) / 3600, 1),
            "checked_at": result.get("snapshotted_at"),
        })  # fmt: skip
    return out
