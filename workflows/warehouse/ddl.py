"""Landing tables and the load ledger: one raw table per lake dataset, one row per loaded manifest.

The landing tables keep each lake line verbatim in ``record`` so that typing and renaming happen in dbt,
where they can be changed and replayed; the lineage columns say which file and line a row came from.
"""

from __future__ import annotations

from workflows.lake import DATASETS

SCHEMA = "raw"
LEDGER = f"{SCHEMA}.smelt_loads"

#: Lake dataset -> landing table (schema-qualified).
LANDING_TABLES: dict[str, str] = {dataset: f"{SCHEMA}.polygon_{dataset}" for dataset in DATASETS}


def landing_table(dataset: str) -> str:
    """The schema-qualified landing table of a lake dataset; unknown datasets are an error, not a new table."""
    try:
        return LANDING_TABLES[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}") from None


def duckdb_ddl() -> list[str]:
    """DuckDB statements creating the schema, every landing table and the ledger; safe to run again."""
    landing = [
        f"""CREATE TABLE IF NOT EXISTS {table} (
    record      JSON        NOT NULL,
    trade_date  DATE        NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR     NOT NULL,
    source_row  BIGINT      NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL
)"""
        for table in LANDING_TABLES.values()
    ]
    ledger = f"""CREATE TABLE IF NOT EXISTS {LEDGER} (
    manifest_key VARCHAR PRIMARY KEY,
    dataset      VARCHAR     NOT NULL,
    trade_date   DATE        NOT NULL,
    files        INTEGER     NOT NULL,
    rows         BIGINT      NOT NULL,
    sha256       VARCHAR     NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL
)"""
    return [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", *landing, ledger]
