"""The dashboard on Snowflake: the marts built on the emulator (fakesnow) and on DuckDB from the same simulated
days, every page's layout and every callback (each view, the latest session and a backfilled day) rendered
over both sources (`SnapshotSource`, `SnowflakeSource` through the reporter role), and the same figures' data
asserted: numbers within 1e-9, the same rows, the same categories. Also: the quality page is full on
Snowflake, and a new build is picked up without a restart."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard.marts import SnowflakeSource
from dashboard.pages import PAGES, chain, common, positioning, quality, runs, strategy, volatility
from dashboard.queries import Queries
from tests.dashboard.support import END, SIM_NOW, UNDERLYINGS
from tests.dashboard.test_callbacks import BACKFILLED, CHARTS, D, expiry
from tests.marks import builds_a_warehouse
from tests.snowflake.conftest import FakeSnowflake
from tests.snowflake.marts_both import Built, build_both
from workflows.lake import open_storage
from workflows.marts_contract import BUILD_FILE, CURRENT, LAKE_BUILDS_PREFIX, PUBLISHED_MARTS

pytestmark = [pytest.mark.snowflake, pytest.mark.timeout(1500)]

#: Two weeks, the Thanksgiving holiday inside: END through the chain snapshot, the days before by backfill.
START = dt.date(2026, 11, 16)

#: The pages drawn from the marts. The Runs page lists run reports, which each warehouse's runs store where its
#: dashboard reads them (the snapshot folder, the lake prefix): not a marts parity (tests/dashboard/test_runs.py).
MARTS_PAGES = [p for p in PAGES if p is not runs]


@dataclass
class Both:
    built: Built
    snapshot: Queries
    snowflake: Queries


@pytest.fixture(scope="module")
@builds_a_warehouse
def both(
    fakesnow: FakeSnowflake, key_pair: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Both:
    tmp = tmp_path_factory.mktemp("parity")
    built = build_both(fakesnow, key_pair[0], tmp, (START, END), UNDERLYINGS, SIM_NOW)
    return Both(
        built, Queries.over(built.snapshot(check_seconds=0)), Queries.over(built.snowflake(check_seconds=0))
    )


# -- comparing what a callback returns ---------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A callback's outputs as JSON-like data: figures and components by their props, arrays as lists,
    dates as ISO text, NaN as the string "NaN" (so that two NaNs compare equal)."""
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go

    if isinstance(value, go.Figure):
        return plain(value.to_plotly_json())
    if hasattr(value, "to_plotly_json"):  # a Dash component
        return plain(value.to_plotly_json())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if value is pd.NaT:
        return "NaN"
    return value


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two plain values differ: numbers beyond 1e-9 (relative or absolute), anything else unequal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} vs {b!r}"]


def assert_same(duck: Any, snow: Any, what: str) -> None:
    found = differences(plain(duck), plain(snow))
    assert not found, f"{what}: {len(found)} differences, first: {found[:8]}"


def drew(outputs: tuple[Any, ...]) -> bool:
    """Whether the callback drew something from the marts (its first group's source is set)."""
    return len(outputs) > 3 and outputs[3] in ("simulator", "polygon")


# -- every callback, every view --------------------------------------------------------------------------

#: Views beyond each chart's defaults: the other price series, every strike filter and metric, each range.
VIEWS: dict[str, list[dict[str, Any]]] = {
    "market": [{}, {"adj": "raw", "overlays": ["sma50", "sma200", "bollinger"]}, {"range_": "1m"}],
    "chain": [{}, {"money": "all"}, {"money": "5"}],
    "smile": [{}],
    "term": [{}],
    "surface": [{}],
    "surface3d": [{}],
    "rv": [{}, {"range_": "1m"}],
    "strikes": [{}, {"metric": "volume", "band": "50"}],
    "strikes_one_expiry": [{}, {"metric": "oi"}],
    "history": [{}, {"range_": "1m"}],
    "pick": [{}],
    "position": [{}, {"rate": 2.5}],
}
CASES = [(name, day, view) for name, views in VIEWS.items() for day in (D, BACKFILLED) for view in views]


def test_every_chart_is_in_the_cases() -> None:
    """A chart added to the callbacks' catalogue must be compared here too."""
    assert set(VIEWS) == set(CHARTS) - {"quality"}


@pytest.mark.parametrize(("name", "day", "view"), CASES, ids=[f"{n}-{d}-{i}" for n, d, v in CASES for i in [
    json.dumps(v, sort_keys=True)]])  # fmt: skip
def test_every_callback_draws_the_same_data_on_snowflake(
    both: Both, name: str, day: str, view: dict[str, Any]
) -> None:
    spec = CHARTS[name]
    legal = {k: v for k, v in view.items() if k in spec.args}
    if set(legal) != set(view):
        pytest.skip(f"{name} has no {sorted(set(view) - set(legal))}")
    duck = spec.call(both.snapshot, day=day, **legal)
    snow = spec.call(both.snowflake, day=day, **legal)
    assert drew(duck), f"{name} drew nothing on DuckDB: {duck[1]}"
    assert_same(duck, snow, f"{name} on {day} {view}")


@pytest.mark.parametrize("page", MARTS_PAGES, ids=[p.PREFIX for p in MARTS_PAGES])
@pytest.mark.parametrize(
    "params", [{}, {"ticker": "AAPL", "date": BACKFILLED}], ids=["defaults", "aapl-backfilled"]
)
def test_every_page_layout_is_the_same_on_snowflake(both: Both, page: Any, params: dict[str, str]) -> None:
    """The controls' choices (tickers, days, expiries) come from the marts too."""
    assert_same(page.layout(both.snapshot, params), page.layout(both.snowflake, params), page.PATH)


def test_the_control_callbacks_answer_the_same_on_snowflake(both: Both) -> None:
    day = END.isoformat()
    for q_name in ("snapshot", "snowflake"):
        assert getattr(both, q_name).underlyings() == UNDERLYINGS
    calls = {
        "days": lambda q: common.day_choices(q, "AAPL", BACKFILLED, "option"),
        "stock days": lambda q: common.day_choices(q, "SPY", day, "stock"),
        "chain expiries": lambda q: chain.expiries_for(q, "SPY", day, "60", None),
        "smile expiries": lambda q: volatility.expiry_choices(q, "AAPL", day, None),
        "positioning expiries": lambda q: positioning.expiry_choices(q, "SPY", BACKFILLED, "all"),
        "strategy expiries": lambda q: strategy.expiry_choices(q, "AAPL", day, None),
        "preset": lambda q: strategy.edit_legs(
            q, "strat-add-preset", "", [], None, "condor", "AAPL", day, expiry(q)
        ),
    }
    for what, call in calls.items():
        duck, snow = call(both.snapshot), call(both.snowflake)
        assert duck not in ((), [], None, ""), what
        assert_same(duck, snow, what)


# -- the quality page: build.json on Snowflake -----------------------------------------------------------


def test_build_json_on_snowflake_carries_marts_and_loads_like_the_snapshot(both: Both) -> None:
    duck, snow = both.snapshot.build(), both.snowflake.build()
    assert snow["warehouse"] == "snowflake" and duck["warehouse"] == "duckdb"
    assert set(snow["marts"]) == {spec.name for spec in PUBLISHED_MARTS}
    assert snow["marts"] == duck["marts"]  # rows, first and last day, sources
    assert all(m["rows"] > 0 for m in snow["marts"].values())
    strip = [{k: v for k, v in row.items() if k != "last_loaded_at"} for row in snow["loads"]]
    assert strip == [{k: v for k, v in row.items() if k != "last_loaded_at"} for row in duck["loads"]]
    assert {row["trade_date"] for row in snow["loads"]} >= {START.isoformat(), END.isoformat()}
    assert snow["tests"] and snow["freshness"]


def test_the_quality_page_shows_the_same_marts_and_loads_on_snowflake(both: Both) -> None:
    duck = quality.quality_view(both.snapshot, "light")
    snow = quality.quality_view(both.snowflake, "light")
    assert drew(duck) and drew(snow)
    assert_same(duck[:4], snow[:4], "loads chart")
    assert_same(duck[6], snow[6], "marts table")
    assert_same(duck[9], snow[9], "manifests table")
    assert "no marts" not in json.dumps(plain(snow[6]))
    assert len(snow[7]) > 100  # the dbt tests of the build on Snowflake


# -- a new build without a restart ------------------------------------------------------------------------


def test_a_new_build_is_picked_up_after_the_recheck_interval(both: Both) -> None:
    source = SnowflakeSource(both.built.reporter, check_seconds=0.5)
    q = Queries.over(source)
    first = q.version()
    before = q.build()["published_at"]
    days = q.option_days("SPY")
    assert q.cache.misses == 1 and len(q.cache) == 1

    storage = open_storage(both.built.reporter.lake)
    build = {
        **q.build(),
        "version": "29990101T000000000000Z-000001",
        "published_at": "2999-01-01T00:00:00+00:00",
    }
    storage.put_exclusive(f"{LAKE_BUILDS_PREFIX}/{build['version']}/{BUILD_FILE}", json.dumps(build).encode())
    pointer = both.built.reporter.home / "pointer"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(build["version"] + "\n")
    previous = storage.get_bytes(f"{LAKE_BUILDS_PREFIX}/{CURRENT}")
    try:
        storage.put_file(pointer, f"{LAKE_BUILDS_PREFIX}/{CURRENT}")
        assert q.version() == first  # within the interval: the version this process resolved
        time.sleep(0.6)
        assert q.option_days("SPY") == days
        assert q.version() == build["version"] and q.build()["published_at"] != before
        assert q.cache.misses == 2  # the query ran again under the new version: the old answers are gone
        assert quality.quality_view(q, "light")[4][0].children[1].children == build["version"]
    finally:
        pointer.write_bytes(previous)
        storage.put_file(pointer, f"{LAKE_BUILDS_PREFIX}/{CURRENT}")
