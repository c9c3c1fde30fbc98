"""The marts snapshot contract: what ``workflows/publish.py`` writes and ``dashboard/marts.py`` reads.

One owner for both sides, and nothing else: the standard library only, so the dashboard can read the
contract without importing the pipeline, and the pipeline never imports the dashboard. The published marts
are the dashboard's whole view of the warehouse: a metric it shows is computed once, in dbt, and read here.

Layout of one embedded snapshot::

    $SMELT_HOME/marts-snapshot/CURRENT              one line: the current version's name
    $SMELT_HOME/marts-snapshot/<version>/<mart>.parquet
    $SMELT_HOME/marts-snapshot/<version>/build.json

On Snowflake the marts are read in place and only ``build.json`` and ``CURRENT`` are published, to the lake
under :data:`LAKE_BUILDS_PREFIX`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Folder under ``SMELT_HOME`` that holds the embedded snapshot versions.
SNAPSHOT_DIR = "marts-snapshot"
#: The pointer file naming the current version (switched by one atomic rename).
CURRENT = "CURRENT"
#: Each version's build summary: mart row counts and dates, dbt test results, freshness, loads.
BUILD_FILE = "build.json"
#: Lake prefix of the build summaries published for a Snowflake warehouse.
LAKE_BUILDS_PREFIX = "_smelt/builds"


@dataclass(frozen=True)
class MartSpec:
    """A mart the dashboard reads, and the order its Parquet rows are written in.

    Sorting by the dashboard's filter columns gives every row group tight min/max statistics, so a query for
    one underlying and day reads one or two row groups instead of the whole file.
    """

    name: str
    order_by: tuple[str, ...]


PUBLISHED_MARTS: tuple[MartSpec, ...] = (
    MartSpec("mart_stock_daily", ("ticker", "trade_date")),
    MartSpec(
        "mart_option_chain", ("underlying", "trade_date", "expiration_date", "strike_price", "contract_type")
    ),
    MartSpec("mart_vol_surface", ("underlying", "trade_date", "expiration_date", "strike_price")),
    MartSpec("mart_options_oi_by_strike", ("underlying", "trade_date", "expiration_date", "strike_price")),
    MartSpec("mart_options_max_pain", ("underlying", "trade_date", "expiration_date")),
    MartSpec("mart_options_positioning", ("underlying", "trade_date")),
    MartSpec("mart_options_iv_rank", ("underlying", "trade_date")),
)
MART_NAMES: frozenset[str] = frozenset(m.name for m in PUBLISHED_MARTS)


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
