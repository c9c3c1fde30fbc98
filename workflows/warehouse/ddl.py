"""Landing tables and the load ledger: one raw table per lake dataset, one row per loaded manifest.

The landing tables keep each lake line verbatim in ``record`` so that typing and renaming happen in dbt,
where they can be changed and replayed; the lineage columns say which file and line a row came from. Both
backends' statements are here, side by side, so a column added to one is seen missing from the other.
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


#: Snowflake's types for the same columns (a landing table keeps the JSON line as a VARIANT).
_SNOWFLAKE_LANDING_COLUMNS = """(
    record      VARIANT        NOT NULL,
    trade_date  DATE           NOT NULL,
    underlying  VARCHAR,
    source_file VARCHAR        NOT NULL,
    source_row  NUMBER(38, 0)  NOT NULL,
    loaded_at   TIMESTAMP_TZ   NOT NULL
)"""
# ROWS is a reserved word in Snowflake: the column is quoted (it is still ROWS, like unquoted rows on DuckDB).
_SNOWFLAKE_LEDGER_COLUMNS = """(
    manifest_key VARCHAR       NOT NULL PRIMARY KEY,
    dataset      VARCHAR       NOT NULL,
    trade_date   DATE          NOT NULL,
    files        INTEGER       NOT NULL,
    "ROWS"       BIGINT        NOT NULL,
    sha256       VARCHAR       NOT NULL,
    loaded_at    TIMESTAMP_TZ  NOT NULL
)"""


def snowflake_ddl() -> dict[str, str]:
    """Table -> Snowflake CREATE statement for the landing tables and the ledger, as in snowflake/setup.sql."""
    ddl = {t: f"CREATE TABLE IF NOT EXISTS {t} {_SNOWFLAKE_LANDING_COLUMNS}" for t in LANDING_TABLES.values()}
    ddl[LEDGER] = f"CREATE TABLE IF NOT EXISTS {LEDGER} {_SNOWFLAKE_LEDGER_COLUMNS}"
    return ddl
