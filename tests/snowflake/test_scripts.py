"""snowflake/setup.sql and grants.sql: they render, every statement parses as Snowflake SQL, a re-run changes
nothing, the landing tables match the DuckDB shape, and the grants give each role exactly its part."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tests.snowflake.conftest import FakeSnowflake, script_statements
from workflows.warehouse import snowflake_scripts as scripts
from workflows.warehouse.ddl import FLATFILE_TABLES, LANDING_TABLES, LEDGER, duckdb_ddl, snowflake_ddl

pytestmark = pytest.mark.snowflake
logging.getLogger("sqlglot").setLevel(logging.ERROR)  # the Command fallbacks below are expected

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"
VALUES = {
    "lake_url": "s3://smelt-lake/prod",
    "aws_role_arn": "arn:aws:iam::123456789012:role/smelt-snowflake-lake",
    "loader_public_key": KEY,
    "transformer_public_key": KEY,
    "reporter_public_key": KEY,
}
DB = "SMELT"

# sqlglot 30 has no grammar for these Snowflake statements and keeps them whole as a Command; everything else
# must parse into a structured statement.
COMMAND_FORMS = (
    "ALTER RESOURCE MONITOR", "ALTER STORAGE INTEGRATION", "ALTER WAREHOUSE", "ALTER STAGE", "ALTER USER",
    "CREATE RESOURCE MONITOR", "CREATE SCHEMA", "CREATE TRANSIENT SCHEMA", "CREATE ROLE", "CREATE USER",
    "GRANT ROLE", "GRANT SELECT", "GRANT SELECT, INSERT",
)  # fmt: skip


statements = script_statements


def rendered(name: str) -> str:
    return scripts.render(scripts.script(name), VALUES)


@pytest.fixture(scope="module")
def all_statements() -> list[str]:
    return [s for name in scripts.SCRIPTS for s in statements(rendered(name))]


# -- rendering ------------------------------------------------------------------------------------------------


def test_every_variable_is_a_documented_parameter() -> None:
    used = set().union(*(scripts.variables(scripts.script(n)) for n in scripts.SCRIPTS))
    assert used == set(scripts.PARAMETERS)
    docs = (Path(scripts.SCRIPTS_DIR).parent / "docs" / "snowflake.md").read_text()
    assert [p for p in scripts.PARAMETERS if f"`{p}`" not in docs] == []


def test_render_names_every_missing_or_malformed_value() -> None:
    with pytest.raises(scripts.ScriptError) as err:
        scripts.render(scripts.script("setup"), {"lake_url": "s3://smelt-lake/x'; DROP DATABASE SMELT; --"})
    message = str(err.value)
    assert "lake_url=" in message and "aws_role_arn is required" in message
    with pytest.raises(scripts.ScriptError, match="database="):
        scripts.render(scripts.script("setup"), {**VALUES, "database": "SMELT; DROP"})
    with pytest.raises(scripts.ScriptError, match="unknown parameter"):
        scripts.render(scripts.script("grants"), {**VALUES, "account_id": "xy12345"})


def test_a_pem_public_key_is_reduced_to_its_body(key_pair: tuple[Path, str]) -> None:
    _, public_pem = key_pair
    text = scripts.render(scripts.script("grants"), {**VALUES, "loader_public_key": public_pem})
    body = scripts.public_key_body(public_pem)
    assert f"RSA_PUBLIC_KEY = '{body}'" in text and "BEGIN PUBLIC KEY" not in text


def test_no_account_specific_value_is_written_in_the_scripts() -> None:
    for name in scripts.SCRIPTS:
        text = " ".join(statements(scripts.script(name)))
        assert not re.search(r"\b[0-9]{12}\b", text), "an AWS account id"
        assert "s3://" not in text and "arn:aws" not in text
        assert "PASSWORD" not in text.upper()


# -- parsing and idempotence ------------------------------------------------------------------------------------


def test_every_statement_parses_as_snowflake_sql(all_statements: list[str]) -> None:
    structured = set()
    for sql in all_statements:
        parsed = sqlglot.parse(sql, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None, sql
        if isinstance(parsed[0], exp.Command):
            assert sql.upper().startswith(COMMAND_FORMS), f"sqlglot could not structure: {sql[:80]}"
        elif isinstance(parsed[0], exp.Create):
            structured.add(parsed[0].kind)
    assert {"DATABASE", "WAREHOUSE", "STORAGE INTEGRATION", "FILE FORMAT", "STAGE", "TABLE"} <= structured


def test_every_statement_is_safe_to_run_again(all_statements: list[str]) -> None:
    for sql in all_statements:
        upper = sql.upper()
        assert not upper.startswith(("DROP", "DELETE", "TRUNCATE", "INSERT", "UPDATE", "REVOKE", "MERGE")), (
            sql
        )
        assert "OR REPLACE" not in upper, f"replacing would drop data, grants or the integration: {sql[:80]}"
        if upper.startswith("CREATE"):
            assert " IF NOT EXISTS " in upper, sql
        if upper.startswith("ALTER"):
            assert re.match(r"ALTER \w+( \w+)? [\w.$]+ SET ", upper), (
                f"ALTER may only converge settings: {sql}"
            )
        # Re-running the user statements must not put back a rotated key.
        if "RSA_PUBLIC_KEY" in upper:
            assert upper.startswith("CREATE USER IF NOT EXISTS"), sql


def _landing_columns(create: exp.Create) -> list[tuple[str, str]]:
    schema = create.this
    return [
        (c.name.lower(), c.args["kind"].sql("snowflake"))
        for c in schema.expressions
        if isinstance(c, exp.ColumnDef)
    ]


def test_landing_tables_have_the_duckdb_shape() -> None:
    creates = {
        e.this.this.name.lower(): e
        for e in sqlglot.parse(rendered("setup"), read="snowflake")
        if isinstance(e, exp.Create) and e.kind == "TABLE"
    }
    expected = {t.split(".")[1] for t in [*LANDING_TABLES.values(), LEDGER]}
    assert set(creates) == expected
    duck = {
        e.this.this.name.lower(): [
            (c.name.lower(), c.args["kind"].sql("duckdb"))
            for c in e.this.expressions
            if isinstance(c, exp.ColumnDef)
        ]
        for e in (sqlglot.parse_one(s, read="duckdb") for s in duckdb_ddl())
        if isinstance(e, exp.Create) and e.kind == "TABLE"
    }
    for table, create in creates.items():
        columns = _landing_columns(create)
        assert [c for c, _ in columns] == [c for c, _ in duck[table]], table
        types = dict(columns)
        if f"raw.{table}" in FLATFILE_TABLES:
            assert (types["volume"], types["open"], types["window_start"]) == (
                "DECIMAL(38, 0)",
                "DOUBLE",
                "DECIMAL(38, 0)",
            ), types
            assert types["source_last_modified"] == types["loaded_at"] == "TIMESTAMPTZ", types
        elif table.startswith("polygon_"):
            assert types["record"] == "VARIANT" and types["loaded_at"] == "TIMESTAMPTZ", types


def test_setup_objects_rerun_on_fakesnow_changes_nothing(
    fakesnow: FakeSnowflake, key_pair: tuple[Path, Any]
) -> None:
    """The statements the emulator can run (database, file format, stages, tables) run twice: the catalog is
    the same and a loaded row survives, so nothing was replaced. Schemas are made plainly first: fakesnow
    cannot parse WITH MANAGED ACCESS (the static test above covers those statements)."""
    import snowflake.connector

    runnable = ("CREATE DATABASE", "CREATE FILE FORMAT", "CREATE STAGE", "CREATE TABLE")
    setup = [s for s in statements(rendered("setup")) if s.upper().startswith(runnable)]
    assert len(setup) == 5 + len(LANDING_TABLES) + 1  # database, 2 file formats, 2 stages, tables, ledger
    conn = snowflake.connector.connect(**fakesnow.connect_args(key_pair[0]))
    try:
        cur = conn.cursor()

        def catalog() -> dict[str, Any]:
            tables = cur.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "where table_schema = 'RAW' order by 1, 2, 3"
            ).fetchall()
            stages = cur.execute("show stages in schema smelt.raw").fetchall()
            formats = cur.execute("show file formats in schema smelt.raw").fetchall()
            return {
                "tables": tables,
                "stages": [s[1:4] for s in stages],
                "formats": [f[1:4] for f in formats],
            }

        cur.execute(setup[0])
        for schema in ("RAW", "STAGING", "INTERMEDIATE", "MARTS", "SNAPSHOTS"):
            cur.execute(f"create schema if not exists {DB}.{schema}")
        for sql in setup[1:]:
            cur.execute(sql)
        cur.execute(f"use database {DB}")
        first = catalog()
        cur.execute(
            f'insert into {DB}.RAW.POLYGON_STOCK_BARS select parse_json(\'{{"T": "A"}}\'), '
            "'2026-01-05'::date, null, 'f', 1, current_timestamp()"
        )
        for sql in setup:
            cur.execute(sql)
        assert catalog() == first
        assert cur.execute(f"select count(*) from {DB}.RAW.POLYGON_STOCK_BARS").fetchone() == (1,)
        json_tables = len(LANDING_TABLES) - len(FLATFILE_TABLES)
        assert len(first["tables"]) == 6 * json_tables + 15 * len(FLATFILE_TABLES) + 7
        assert len(first["stages"]) == 2 and len(first["formats"]) == 2
    finally:
        conn.close()


# -- grants -----------------------------------------------------------------------------------------------------

_GRANT = re.compile(
    r"GRANT (?P<privs>[A-Z ,]+?) ON (?:(?P<scope>ALL|FUTURE) (?P<plural>[A-Z ]+?) IN SCHEMA (?P<schema>[\w.]+)"
    r"|(?P<kind>WAREHOUSE|DATABASE|SCHEMA|STAGE|FILE FORMAT|INTEGRATION) (?P<name>[\w.]+)) TO ROLE (?P<role>\w+)$"
)
_GRANT_ROLE = re.compile(r"GRANT ROLE (?P<role>\w+) TO (?P<kind>ROLE|USER) (?P<grantee>\w+)$")
WRITES = {
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "WRITE",
    "OWNERSHIP",
    "CREATE TABLE",
    "CREATE VIEW",
    "ALL",
}


def read_grants(sqls: list[str]) -> tuple[dict[str, set[tuple[str, str, str]]], dict[str, set[str]]]:
    """(privilege, object kind, object) per role, and who holds each role; fails on a GRANT it cannot read."""
    grants: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    holders: dict[str, set[str]] = defaultdict(set)
    for sql in sqls:
        if not sql.upper().startswith("GRANT"):
            continue
        if m := _GRANT_ROLE.match(sql):
            holders[m["role"]].add(f"{m['kind']} {m['grantee']}")
            continue
        m = _GRANT.match(sql)
        assert m, f"unreadable grant: {sql}"
        kind, name = (m["plural"].rstrip("S"), m["schema"]) if m["scope"] else (m["kind"], m["name"])
        for priv in (p.strip() for p in m["privs"].split(",")):
            grants[m["role"]].add((priv, kind, name))
    return grants, holders


def schema_of(kind: str, name: str) -> str | None:
    """The schema an object lives in (the schema itself for SCHEMA grants and ALL/FUTURE grants)."""
    if kind in {"TABLE", "VIEW", "SCHEMA"}:
        return name.split(".")[1] if "." in name else None
    if kind in {"STAGE", "FILE FORMAT"}:
        return name.split(".")[1]
    return None


@pytest.fixture(scope="module")
def grants(all_statements: list[str]) -> tuple[dict[str, set[tuple[str, str, str]]], dict[str, set[str]]]:
    return read_grants(all_statements)


def test_reporter_reads_marts_only_on_the_dashboard_warehouse(grants: Any) -> None:
    by_role, _ = grants
    reporter = by_role["SMELT_REPORTER"]
    assert reporter == {
        ("USAGE", "WAREHOUSE", "SMELT_DASHBOARD_WH"),
        ("USAGE", "DATABASE", DB),
        ("USAGE", "SCHEMA", f"{DB}.MARTS"),
        ("SELECT", "VIEW", f"{DB}.MARTS"),
        ("SELECT", "TABLE", f"{DB}.MARTS"),
    }


def test_loader_writes_raw_only(grants: Any) -> None:
    by_role, _ = grants
    loader = by_role["SMELT_LOADER"]
    writes = {(p, k, n) for p, k, n in loader if p in WRITES}
    assert writes and all(schema_of(k, n) == "RAW" for _, k, n in writes), writes
    assert not any(p.startswith("CREATE") or p == "OWNERSHIP" for p, _, _ in loader)
    assert {n for p, k, n in loader if k == "WAREHOUSE"} == {"SMELT_LOAD_WH"}
    assert all(schema_of(k, n) in {"RAW", None} for _, k, n in loader)


def test_only_the_loader_writes_raw_and_the_transformer_builds_the_models(grants: Any) -> None:
    by_role, _ = grants
    for role, held in by_role.items():
        raw_writes = {g for g in held if g[0] in WRITES and schema_of(g[1], g[2]) == "RAW"}
        assert role == "SMELT_LOADER" or not raw_writes, (role, raw_writes)
    transformer = by_role["SMELT_TRANSFORMER"]
    assert ("SELECT", "TABLE", f"{DB}.RAW") in transformer
    for schema in ("STAGING", "INTERMEDIATE", "MARTS", "SNAPSHOTS"):
        assert {
            ("CREATE TABLE", "SCHEMA", f"{DB}.{schema}"),
            ("CREATE VIEW", "SCHEMA", f"{DB}.{schema}"),
        } <= transformer
    assert {n for p, k, n in transformer if k == "WAREHOUSE"} == {"SMELT_TRANSFORM_WH"}


def test_each_role_has_one_key_pair_service_user(grants: Any, all_statements: list[str]) -> None:
    _, holders = grants
    for role, user in (("SMELT_LOADER", "SMELT_LOADER_SVC"), ("SMELT_TRANSFORMER", "SMELT_TRANSFORMER_SVC"),
                       ("SMELT_REPORTER", "SMELT_REPORTER_SVC")):  # fmt: skip
        assert holders[role] == {"ROLE SYSADMIN", f"USER {user}"}
        create = next(s for s in all_statements if s.startswith(f"CREATE USER IF NOT EXISTS {user} "))
        assert "TYPE = SERVICE" in create and f"RSA_PUBLIC_KEY = '{KEY}'" in create
        assert f"DEFAULT_ROLE = {role}" in create


def test_smelt_snowflake_render_prints_the_script_or_names_what_is_missing(
    tmp_path: Path, key_pair: tuple[Path, str]
) -> None:
    from typer.testing import CliRunner

    from workflows.cli import app

    pub = tmp_path / "loader.pub"
    pub.write_text(key_pair[1])
    keys = [f"--set={role}_public_key=@{pub}" for role in ("loader", "transformer", "reporter")]
    ok = CliRunner().invoke(app, ["snowflake", "render", "grants", *keys, "--set", "database=SMELT_DEV"])
    assert ok.exit_code == 0, ok.output
    assert "GRANT USAGE ON DATABASE SMELT_DEV TO ROLE SMELT_LOADER;" in ok.output
    assert scripts.public_key_body(key_pair[1]) in ok.output
    bad = CliRunner().invoke(app, ["snowflake", "render", "setup", "--set", "lake_url=s3://smelt-lake/x"])
    assert bad.exit_code == 2 and "aws_role_arn is required" in bad.output


def test_the_loader_creates_the_same_landing_tables_as_setup_sql() -> None:
    """The loader creates a missing landing table itself (a development account): with setup.sql's DDL."""

    def canonical(sql: str) -> str:
        create = sqlglot.parse_one(sql, read="snowflake")
        create.this.this.set("catalog", None)  # setup.sql qualifies with the database, the loader does not
        return create.sql("snowflake", normalize=True, comments=False)

    setup = {
        e.this.this.name.lower(): canonical(e.sql("snowflake", comments=False))
        for e in sqlglot.parse(rendered("setup"), read="snowflake")
        if isinstance(e, exp.Create) and e.kind == "TABLE"
    }
    loader = {table.split(".")[1]: canonical(sql) for table, sql in snowflake_ddl().items()}
    assert loader == setup
