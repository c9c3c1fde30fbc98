"""Landing tables and the load ledger: one raw table per lake dataset, one row per loaded manifest.

The landing tables of API datasets keep each lake line verbatim in ``record`` so that typing and renaming
happen in dbt, where they can be changed and replayed; the lineage columns say which file and line a row came
from. A flat-file dataset's table has the vendor's eight CSV columns, typed (workflows/warehouse/flatfiles.py),
plus its lineage and the object's ETag and last-modified time, which decide which version of a day wins. Both
backends' statements are here, side by side, so a column added to one is seen missing from the other.
"""

from __future__ import annotations

from workflows.lake import DATASETS, FLATFILE_DATASETS
from workflows.warehouse.flatfiles import COLUMNS

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


#: The landing tables that hold typed flat-file rows rather than JSON lines.
FLATFILE_TABLES: frozenset[str] = frozenset(LANDING_TABLES[dataset] for dataset in FLATFILE_DATASETS)


def _flatfile_columns(snowflake: bool) -> str:
    typed = [f"{name:<20} {sf if snowflake else duck:<14} NOT NULL" for name, duck, sf in COLUMNS]
    number, timestamp = ("NUMBER(38, 0)", "TIMESTAMP_TZ") if snowflake else ("BIGINT", "TIMESTAMPTZ")
    lineage = [
        f"{'trade_date':<20} {'DATE':<14} NOT NULL",
        f"{'source':<20} {'VARCHAR':<14} NOT NULL",
        f"{'source_file':<20} {'VARCHAR':<14} NOT NULL",
        f"{'source_row':<20} {number:<14} NOT NULL",
        f"{'source_etag':<20} {'VARCHAR':<14} NOT NULL",
        f"{'source_last_modified':<20} {timestamp:<14} NOT NULL",
        f"{'loaded_at':<20} {timestamp:<14} NOT NULL",
    ]
    return "(\n    " + ",\n    ".join(typed + lineage) + "\n)"


def duckdb_ddl() -> list[str]:
    """DuckDB statements creating the schema, every landing table and the ledger; safe to run again."""
    landing = [
        f"CREATE TABLE IF NOT EXISTS {table} {_flatfile_columns(snowflake=False)}"
        if table in FLATFILE_TABLES
        else f"""CREATE TABLE IF NOT EXISTS {table} (
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


#: Snowflake's types for the same columns (an API landing table keeps the JSON line as a VARIANT).
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
    ddl = {
        t: f"CREATE TABLE IF NOT EXISTS {t} "
        + (_flatfile_columns(snowflake=True) if t in FLATFILE_TABLES else _SNOWFLAKE_LANDING_COLUMNS)
        for t in LANDING_TABLES.values()
    }
    ddl[LEDGER] = f"CREATE TABLE IF NOT EXISTS {LEDGER} {_SNOWFLAKE_LEDGER_COLUMNS}"
    return ddl
