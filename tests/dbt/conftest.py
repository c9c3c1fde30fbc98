"""Fixtures for the dbt project's tests: the warehouse after a first build, an incremental build and a
full refresh (see support.py for the data)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dbt.support import (
    Builds,
    DbtProject,
    Market,
    failures,
    increment_load,
    initial_load,
    snapshot_tables,
)
from tests.marks import builds_a_warehouse


@pytest.fixture(scope="module")
@builds_a_warehouse
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    work = tmp_path_factory.mktemp("dbt")
    db_path = work / "warehouse.duckdb"
    market = Market.simulate()
    first_raw = initial_load(market)
    first_raw.write(db_path)
    project = DbtProject(db_path, work)
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}

    results["first"], seconds["first"] = project.invoke("build")
    assert results["first"].success, failures(results["first"])
    first = snapshot_tables(project)
    staging = {
        "stock_bars": project.table("staging.stg_polygon__stock_bars", "ticker, trade_date", ()),
        "option_bars": project.table("staging.stg_polygon__option_bars", "option_ticker, trade_date", ()),
    }

    increment_load(market, first_raw).write(db_path)
    results["incremental"], seconds["incremental"] = project.invoke(
        "build", "--exclude-resource-type", "unit_test"
    )
    assert results["incremental"].success, failures(results["incremental"])
    incremental = snapshot_tables(project)

    refreshed = DbtProject(work / "refreshed.duckdb", work / "refresh")
    project.copy_to(refreshed.db_path)
    results["full_refresh"], seconds["full_refresh"] = refreshed.invoke("run", "--full-refresh")
    assert results["full_refresh"].success, failures(results["full_refresh"])
    full = snapshot_tables(refreshed)

    yield Builds(project, market, first, incremental, full, staging, results, seconds)
