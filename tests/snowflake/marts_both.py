"""The same simulated days built twice, on DuckDB (published as a snapshot) and on the Snowflake emulator (the
marts in place, build.json in the lake), with the dashboard's sources over both: what the parity tests and
bench/dashboard_snowflake.py compare."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.marts import SnapshotSource, SnowflakeSource
from tests.snowflake.conftest import FakeSnowflake, prepare_database
from tests.snowflake.test_dbt_snowflake import project_with_overrides
from workflows import steps
from workflows.publish import snapshot_root
from workflows.settings import Settings, load_settings
from workflows.steps.run import run_days

#: The reporter of snowflake/grants.sql: the dashboard's read-only login.
REPORTER = {"SNOWFLAKE_USER": "SMELT_REPORTER_SVC", "SNOWFLAKE_ROLE": "SMELT_REPORTER",
            "SNOWFLAKE_WAREHOUSE": "SMELT_DASHBOARD_WH"}  # fmt: skip


@dataclass
class Built:
    duckdb: Settings  # the embedded run; its snapshot is the parity's reference
    reporter: Settings  # the dashboard's login on the emulator, and its lake (build.json)

    def snapshot(self, **kwargs: float) -> SnapshotSource:
        return SnapshotSource(snapshot_root(self.duckdb), **kwargs)  # type: ignore[arg-type]

    def snowflake(self, **kwargs: float) -> SnowflakeSource:
        return SnowflakeSource(self.reporter, **kwargs)


def build_both(
    server: FakeSnowflake,
    private_key: Path,
    tmp: Path,
    days: tuple[dt.date, dt.date],
    underlyings: tuple[str, ...],
    sim_now: dt.date,
) -> Built:
    """`smelt run` on DuckDB, then the same lake loaded, built (dbt-snowflake) and published on the emulator
    as the transformer; the environment is restored afterwards.

    The emulator gets a copy of the lake without the DuckDB run's Greeks: its own greeks step computes and lands
    them, as a Snowflake deployment's would, so both load ledgers count the same manifests."""
    start, end = days
    with pytest.MonkeyPatch.context() as mp:
        for name in ("SMELT_WAREHOUSE", "SMELT_DBT_PROJECT_DIR"):
            mp.delenv(name, raising=False)
        duck = load_settings(home=tmp / "duckdb", underlyings=underlyings, log_format="json", sim_now=sim_now)
        steps.run(steps.Resources.from_settings(duck), start=start, end=end, underlyings=underlyings)

        lake = tmp / "snowflake-lake"
        shutil.copytree(Path(duck.lake.removeprefix("file://")), lake,
                        ignore=shutil.ignore_patterns("option_greeks", "_smelt"))  # fmt: skip
        prepare_database(server, private_key, "SMELT", "s3://smelt-lake/prod")
        for name, value in server.env(private_key).items():
            mp.setenv(name, value)
        mp.setenv("SMELT_DBT_PROJECT_DIR", str(project_with_overrides(tmp, duck.dbt_project_dir)))
        shared = {"underlyings": underlyings, "log_format": "json", "warehouse": "snowflake",
                  "lake_url": lake.as_uri(), "sim_now": sim_now}  # fmt: skip
        resources = steps.Resources.from_settings(load_settings(home=tmp / "snowflake", **shared))
        for day in run_days(start, end):
            steps.load(resources, day)  # the same raw data, through the Snowflake loader
        steps.transform(resources)  # dbt build and source freshness, as SMELT_TRANSFORMER
        steps.publish(resources)  # build.json to the lake
        for name, value in REPORTER.items():
            mp.setenv(name, value)
        reporter = load_settings(home=tmp / "reporter", **shared)
    return Built(duck, reporter)
