"""dbt on Snowflake: the same project and SQL as on DuckDB, built by the real transform step through
dbt-snowflake against fakesnow, over a simulated range loaded by the Snowflake loader; its marts equal the
DuckDB marts of the same lake (row counts, and values within float tolerance)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.marks import builds_a_warehouse
from tests.snowflake.conftest import FakeSnowflake, prepare_database
from workflows import dbt_runner, steps
from workflows.lake import open_storage
from workflows.marts_contract import BUILD_FILE, CURRENT, LAKE_BUILDS_PREFIX
from workflows.publish import PublishReport
from workflows.settings import Settings, load_settings
from workflows.steps.run import run_days

# The module builds both warehouses once (about 2 minutes alone on 2 cores): room for a busy machine.
pytestmark = [pytest.mark.snowflake, pytest.mark.timeout(1200)]

START, END = dt.date(2026, 11, 23), dt.date(2026, 11, 25)
UNDERLYINGS = ("AAPL", "SPY")
OVERRIDES = Path(__file__).parent / "dbt_overrides"

#: Each mart and its grain, the order both sides are compared in.
MARTS = {
    "mart_stock_daily": ("ticker", "trade_date"),
    "mart_option_chain": ("option_ticker", "trade_date"),
    "mart_vol_surface": ("underlying", "trade_date", "expiration_date", "strike_price"),
    "mart_options_oi_by_strike": ("underlying", "trade_date", "expiration_date", "strike_price"),
    "mart_options_max_pain": ("underlying", "trade_date", "expiration_date"),
    "mart_options_positioning": ("underlying", "trade_date"),
    "mart_polygon__options_stocks_joined": ("option_ticker", "trade_date"),
}


@dataclass
class Built:
    duckdb: Settings
    snowflake: Settings
    transform: steps.TransformReport
    published: PublishReport
    marts: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]
    unit_tests: Any


def project_with_overrides(tmp: Path, dbt_dir: Path) -> Path:
    """The dbt project as shipped, plus the fakesnow-only macros (tests/snowflake/dbt_overrides)."""
    project = tmp / "dbt"
    shutil.copytree(dbt_dir, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(OVERRIDES, project / "macros" / "fakesnow_overrides")
    return project


def rows(cursor: Any, sql: str) -> list[dict[str, Any]]:
    cursor.execute(sql)
    names = [d[0].lower() for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture(scope="module")
@builds_a_warehouse
def built(
    fakesnow: FakeSnowflake, key_pair: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    import snowflake.connector

    tmp = tmp_path_factory.mktemp("both")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("SMELT_WAREHOUSE", "SMELT_DBT_PROJECT_DIR"):
            mp.delenv(name, raising=False)
        duck = load_settings(home=tmp / "duckdb", underlyings=UNDERLYINGS, log_format="json", sim_now=END)
        steps.run(
            steps.Resources.from_settings(duck), start=START, end=END, underlyings=UNDERLYINGS
        )  # ingest, load and dbt on DuckDB

        prepare_database(fakesnow, key_pair[0], "SMELT", "s3://smelt-lake/prod")
        for name, value in fakesnow.env(key_pair[0]).items():
            mp.setenv(name, value)
        mp.setenv("SMELT_DBT_PROJECT_DIR", str(project_with_overrides(tmp, duck.dbt_project_dir)))
        sf = load_settings(
            home=tmp / "snowflake", underlyings=UNDERLYINGS, log_format="json", warehouse="snowflake",
            lake_url=duck.lake, sim_now=END,
        )  # fmt: skip
        resources = steps.Resources.from_settings(sf)
        for day in run_days(START, END):
            steps.load(resources, day)  # the same lake, through the Snowflake loader
        transform = steps.transform(resources)  # dbt build + source freshness, as SMELT_TRANSFORMER
        published = steps.publish(resources)  # on Snowflake: the build summary, to the lake
        # The unit tests (production builds skip them) on the same adapter, after the models exist.
        unit = resources.dbt.invoke("test", "--select", "test_type:unit")

    conn = snowflake.connector.connect(**fakesnow.connect_args(key_pair[0], database="SMELT"))
    marts = {}
    try:
        with duckdb.connect(str(duck.duckdb.path), read_only=True) as con:
            for mart, grain in MARTS.items():
                order = ", ".join(grain)
                theirs = rows(conn.cursor(), f"select * from SMELT.MARTS.{mart} order by {order}")
                ours = rows(con.cursor(), f"select * from marts.{mart} order by {order}")
                marts[mart] = (ours, theirs)
    finally:
        conn.close()
    yield Built(duck, sf, transform, published, marts, unit)


def normal(value: Any) -> Any:
    """One comparable form for both engines' Python values (Snowflake NUMBER comes back as Decimal)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def same(a: Any, b: Any) -> bool:
    a, b = normal(a), normal(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def test_transform_runs_every_model_and_test_on_snowflake(built: Built) -> None:
    assert built.transform.models >= 21 and built.transform.tests >= 100
    assert built.snowflake.warehouse == "snowflake"


def test_publish_puts_the_build_summary_in_the_lake_and_points_current_at_it(built: Built) -> None:
    """On Snowflake the marts stay in Snowflake; the publish step writes only build.json, for the quality page."""
    storage = open_storage(built.snowflake.lake)
    version = storage.get_bytes(f"{LAKE_BUILDS_PREFIX}/{CURRENT}").decode().strip()
    assert version == built.published.version
    summary = json.loads(storage.get_bytes(f"{LAKE_BUILDS_PREFIX}/{version}/{BUILD_FILE}"))
    assert summary["warehouse"] == "snowflake" and summary["tests"]


def test_unit_tests_pass_on_snowflake_too(built: Built) -> None:
    results = dbt_runner.node_results(built.unit_tests)
    assert built.unit_tests.success, dbt_runner.failures(built.unit_tests)
    assert len(results) >= 10 and all(r.node.resource_type == "unit_test" for r in results)


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_equal_the_duckdb_marts(built: Built, mart: str) -> None:
    ours, theirs = built.marts[mart]
    assert ours, f"{mart} is empty on DuckDB: the range must exercise it"
    assert len(theirs) == len(ours)
    assert set(theirs[0]) == set(ours[0])
    for mine, other in zip(ours, theirs, strict=True):
        different = {c: (mine[c], other[c]) for c in mine if not same(mine[c], other[c])}
        assert not different, f"{mart} {[mine[c] for c in MARTS[mart]]}: {different}"


def test_smelt_trace_follows_the_same_lineage_on_snowflake(built: Built) -> None:
    """`smelt trace`'s statements run on Snowflake as written (the connector's marks, a VARIANT read as JSON
    text): the same contract traces to the same lake lines, requests and manifests on both warehouses."""
    from workflows.lake import Lake
    from workflows.trace import trace
    from workflows.warehouse import open_warehouse
    from workflows.warehouse.duckdb import DuckDBWarehouse

    lake = Lake.open(built.duckdb.lake)
    with duckdb.connect(str(built.duckdb.duckdb.path), read_only=True) as con:
        [(contract,)] = con.execute(
            "select option_ticker from marts.mart_option_chain where trade_date = ? and close > 0 "
            "order by option_ticker limit 1",
            [END],
        ).fetchall()
        ours = trace(DuckDBWarehouse(built.duckdb.duckdb.path, connection=con), lake, contract, END)
    with open_warehouse(built.snowflake) as warehouse:
        theirs = trace(warehouse, lake, contract, END)
    assert [m.model for m in theirs.models] == [m.model for m in ours.models]
    assert len(theirs.landing) == len(ours.landing) == 2
    for mine, other in zip(ours.landing, theirs.landing, strict=True):
        assert (other.table, other.source_file, other.source_row) == (
            mine.table,
            mine.source_file,
            mine.source_row,
        )
        assert other.request == mine.request and other.request["request_id"]
        assert other.manifest_sha256 == mine.manifest_sha256 and other.lake_line == mine.lake_line
    assert theirs.greeks is not None and ours.greeks is not None
    assert theirs.greeks["status"] == ours.greeks["status"]
