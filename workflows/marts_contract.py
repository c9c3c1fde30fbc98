"""The marts snapshot contract: what ``workflows/publish.py`` writes and ``dashboard/marts.py`` reads.

One owner for both sides, and nothing else: the standard library only, so the dashboard can read the
contract without importing the pipeline, and the pipeline never imports the dashboard. The published marts
are the dashboard's whole view of the warehouse: a metric it shows is computed once, in dbt, and read here.

Layout of one embedded snapshot::

    $SMELT_HOME/marts-snapshot/CURRENT                       one line: the current version's name
    $SMELT_HOME/marts-snapshot/<version>/manifest.json       the partition files that make up each mart
    $SMELT_HOME/marts-snapshot/<version>/build.json          the build summary of the whole snapshot
    $SMELT_HOME/marts-snapshot/parts/<mart>/<partition>/part-<version>.parquet
    $SMELT_HOME/marts-snapshot/runs/<started>-<run id>.json     the runs' reports (not part of any version)

A partition is a trading day (``trade_date=YYYY-MM-DD``, a Hive-style name: it repeats the files' own column)
or a month (``month-YYYY-MM``, deliberately not Hive-style: a reader would add a column). Partition
files are immutable and shared: a version writes only the partitions whose days changed and names the rest
of the previous version's files in its manifest. A version written before partitions existed holds one
``<version>/<mart>.parquet`` per mart and no manifest; :func:`mart_files` reads both.

On Snowflake the marts are read in place and only ``build.json`` and ``CURRENT`` are published, to the lake
under :data:`LAKE_BUILDS_PREFIX`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

#: Folder under ``SMELT_HOME`` that holds the embedded snapshot versions.
SNAPSHOT_DIR = "marts-snapshot"
#: The pointer file naming the current version (switched by one atomic rename).
CURRENT = "CURRENT"
#: Each version's build summary: mart row counts and dates, dbt test results, freshness, loads.
BUILD_FILE = "build.json"
#: Each version's list of partition files per mart (paths relative to the snapshot folder).
MANIFEST_FILE = "manifest.json"
#: Folder of the snapshot that holds every version's partition files.
PARTS_DIR = "parts"
#: Folder of the snapshot holding the runs' reports (workflows/run_reports.py), outside every version: a run
#: stores its report after its publish, and a failed run publishes nothing (decision 100).
RUNS_DIR = "runs"
#: Lake prefix of the build summaries published for a Snowflake warehouse.
LAKE_BUILDS_PREFIX = "_smelt/builds"

Partitioning = Literal["day", "month"]


@dataclass(frozen=True)
class MartSpec:
    """A mart the dashboard reads: the order its Parquet rows are written in, and how it is partitioned.

    Sorting by the dashboard's filter columns gives every row group tight min/max statistics, so a query for
    one underlying and day reads one or two row groups. Marts the dashboard reads one day at a time are
    partitioned by day (a changed day rewrites only its own file); marts it reads as a ticker's history are
    partitioned by month, since a six-month chart over 126 one-day files costs ten times six monthly ones.
    ``window``: a day's values depend on earlier days (moving averages, a 252-day IV rank), so a change on
    one day changes every later day too.
    """

    name: str
    order_by: tuple[str, ...]
    partition: Partitioning
    window: bool = False


PUBLISHED_MARTS: tuple[MartSpec, ...] = (
    MartSpec("mart_stock_daily", ("ticker", "trade_date"), "month", window=True),
    MartSpec(
        "mart_option_chain",
        ("underlying", "trade_date", "expiration_date", "strike_price", "contract_type"),
        "day",
    ),
    MartSpec("mart_vol_surface", ("underlying", "trade_date", "expiration_date", "strike_price"), "day"),
    MartSpec(
        "mart_options_oi_by_strike", ("underlying", "trade_date", "expiration_date", "strike_price"), "day"
    ),
    MartSpec("mart_options_max_pain", ("underlying", "trade_date", "expiration_date"), "day"),
    MartSpec("mart_options_positioning", ("underlying", "trade_date"), "month"),
    MartSpec("mart_options_iv_rank", ("underlying", "trade_date"), "month", window=True),
    # the chain of custody of each contract-day: read one contract at a time, beside the chain
    MartSpec("mart_option_provenance", ("underlying", "trade_date", "option_ticker"), "day"),
)
MART_NAMES: frozenset[str] = frozenset(m.name for m in PUBLISHED_MARTS)
MARTS_BY_NAME: dict[str, MartSpec] = {m.name: m for m in PUBLISHED_MARTS}


def snapshot_folder(home: Path) -> Path:
    """Where the embedded mode keeps its snapshot versions: ``<home>/marts-snapshot``."""
    return Path(home) / SNAPSHOT_DIR


def current_version(root: Path) -> str | None:
    """The version ``CURRENT`` in ``root`` names, or None before the first publish."""
    try:
        name = (Path(root) / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


def partition_key(spec: MartSpec, day: dt.date) -> str:
    """The partition of ``spec`` that holds ``day``: ``trade_date=YYYY-MM-DD`` or ``month-YYYY-MM``."""
    return f"trade_date={day.isoformat()}" if spec.partition == "day" else f"month-{day:%Y-%m}"


def partition_days(key: str) -> tuple[dt.date, dt.date]:
    """The first and last calendar day a partition key covers."""
    if key.startswith("trade_date="):
        day = dt.date.fromisoformat(key.removeprefix("trade_date="))
        return day, day
    if key.startswith("month-"):
        first = dt.date.fromisoformat(f"{key.removeprefix('month-')}-01")
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return first, following - dt.timedelta(days=1)
    raise ValueError(f"{key!r} is not a snapshot partition (trade_date=YYYY-MM-DD or month-YYYY-MM)")


def part_path(mart: str, key: str, version: str) -> str:
    """A new partition file's path relative to the snapshot folder; the version makes it unique."""
    return f"{PARTS_DIR}/{mart}/{key}/part-{version}.parquet"


def read_manifest(root: Path, version: str) -> dict[str, Any] | None:
    """A version's manifest, or None for a version written before partitions (or not there)."""
    try:
        data = json.loads((Path(root) / version / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def mart_files(root: Path, version: str) -> dict[str, list[Path]]:
    """The Parquet files that make up each mart in ``version``, in partition order."""
    root = Path(root)
    manifest = read_manifest(root, version)
    if manifest is None:  # the one-file-per-mart layout
        return {name: [root / version / f"{name}.parquet"] for name in sorted(MART_NAMES)}
    files = {}
    for name in sorted(MART_NAMES):
        mart = manifest["marts"][name]
        parts = mart["partitions"]
        # a mart without rows still has its columns: one empty file carries them
        files[name] = [root / parts[key]["file"] for key in sorted(parts)] or [root / mart["empty"]]
    return files
