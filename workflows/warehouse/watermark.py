"""Watermarks kept in the warehouse: how far a consumer of the ledger (the transform, a publish) got.

A consumer redoes the days of the ledger rows loaded after its watermark (``increment.increment_since``) and
moves the watermark only once that work succeeded, in one transaction, so a failed build leaves it where it
was and the next run redoes the same days. It lives in the warehouse, next to what it describes, because a
pod's ``$SMELT_HOME`` does not survive a restart and the warehouse does; in the ``staging`` schema, the one
both the embedded mode and Snowflake's transformer role may write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflows.warehouse.base import Warehouse

TABLE = "staging.smelt_watermarks"

_DDL = {
    "duckdb": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    consumer   VARCHAR     PRIMARY KEY,
    watermark  TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "snowflake": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    consumer   VARCHAR       NOT NULL PRIMARY KEY,
    watermark  TIMESTAMP_TZ  NOT NULL,
    updated_at TIMESTAMP_TZ  NOT NULL
)""",
}


def read_watermark(warehouse: Warehouse, consumer: str) -> dt.datetime | None:
    """The consumer's watermark, or None when it has none yet (or the table does not exist yet)."""
    if not _exists(warehouse):
        return None
    rows = warehouse.fetch(f"SELECT watermark FROM {TABLE} WHERE consumer = '{_name(consumer)}'")
    return _aware(rows[0][0]) if rows else None


def write_watermark(warehouse: Warehouse, consumer: str, watermark: dt.datetime) -> None:
    """Set the consumer's watermark, replacing the old one in a single transaction."""
    if watermark.tzinfo is None:
        raise ValueError("write_watermark: the watermark must be timezone-aware (the ledger's loaded_at is)")
    if warehouse.name == "duckdb":
        warehouse.fetch("CREATE SCHEMA IF NOT EXISTS staging")
    warehouse.fetch(_DDL[warehouse.name])
    at = f"'{watermark.astimezone(dt.UTC).isoformat()}'::timestamptz"  # a literal of our own making
    with warehouse.transaction() as tx:
        tx.execute(f"DELETE FROM {TABLE} WHERE consumer = '{_name(consumer)}'")
        tx.execute(f"INSERT INTO {TABLE} VALUES ('{_name(consumer)}', {at}, current_timestamp)")


def _exists(warehouse: Warehouse) -> bool:
    schema, table = TABLE.split(".")
    rows = warehouse.fetch(
        "SELECT count(*) FROM information_schema.tables "
        f"WHERE lower(table_schema) = '{schema}' AND lower(table_name) = '{table}'"
    )
    return bool(rows and rows[0][0])


def _name(consumer: str) -> str:
    if not consumer.replace("-", "_").isidentifier():
        raise ValueError(f"watermark consumer {consumer!r}: use letters, digits, '_' or '-'")
    return consumer


def _aware(value: Any) -> dt.datetime:
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
