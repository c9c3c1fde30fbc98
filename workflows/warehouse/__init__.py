"""Warehouse loaders: the lake's manifests into landing tables, once each, behind one small interface.

``load(warehouse, lake, day)`` is the load step; ``open_warehouse(settings)`` picks the backend (not yet
connected: a connection is opened on first use). What dbt needs to reach the same warehouse is the dbt
target's (workflows/dbt_runner.py).
"""

from __future__ import annotations

from workflows.settings import Settings
from workflows.warehouse.base import (
    DEFAULT_WORKERS,
    LoadError,
    LoadReport,
    LoadResult,
    ManifestLoadError,
    TableStats,
    Warehouse,
    load,
)
from workflows.warehouse.ddl import LANDING_TABLES, LEDGER, SCHEMA, landing_table
from workflows.warehouse.duckdb import DuckDBWarehouse, WarehouseLockedError

__all__ = [
    "DEFAULT_WORKERS",
    "LANDING_TABLES",
    "LEDGER",
    "SCHEMA",
    "DuckDBWarehouse",
    "LoadError",
    "LoadReport",
    "LoadResult",
    "ManifestLoadError",
    "TableStats",
    "Warehouse",
    "WarehouseLockedError",
    "landing_table",
    "load",
    "open_warehouse",
]


def open_warehouse(settings: Settings) -> Warehouse:
    """The configured warehouse, not yet connected: use it as a context manager to release it."""
    if settings.warehouse == "duckdb":
        return DuckDBWarehouse.from_settings(settings)
    from workflows.warehouse.snowflake import SnowflakeWarehouse  # the connector loads only when used

    return SnowflakeWarehouse.from_settings(settings)
