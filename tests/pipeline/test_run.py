"""The whole pipeline on the simulator: `smelt run` over 5 days x 3 underlyings, and re-running it; a run of
past days only."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import NoReturn

import duckdb
import pytest
from typer.testing import CliRunner

from tests.pipeline.support import END, MARTS, START, UNDERLYINGS, make_settings, mart_fingerprints
from workflows import calendar, steps
from workflows.cli import app
from workflows.lake import Lake
from workflows.marts_contract import current_version, mart_files
from workflows.publish import snapshot_root
from workflows.steps.plan import plan


def test_run_lands_loads_and_models_every_day(demo_run) -> None:  # type: ignore[no-untyped-def]
    settings, report = demo_run
    days = calendar.trading_days(START, END)
    assert report.days == days and len(days) == 5
    lake = Lake.open(settings.lake)
    manifests = [m for m in lake.manifests() if m.run_id == report.run_id]
    # per day: stock_bars + stock_splits + treasury_yields + (contracts + snapshots + dividends) per underlying
    assert len(manifests) == len(days) * (3 + 3 * len(UNDERLYINGS))
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        ledger = dict(con.execute("select manifest_key, rows from raw.smelt_loads").fetchall())
        assert {k: ledger[k] for k in (m.key for m in manifests)} == {m.key: m.rows for m in manifests}
        for mart in MARTS:
            rows, days_seen, sources = con.execute(
                f"select count(*), count(distinct trade_date), string_agg(distinct source, ',') from marts.{mart}"
            ).fetchone()
            assert rows > 0, mart
            assert days_seen == len(days), mart
            assert sources == "simulator", mart


def test_snapshot_path_costs_one_request_per_250_contracts_plus_one(demo_run) -> None:  # type: ignore[no-untyped-def]
    settings, report = demo_run
    lake = Lake.open(settings.lake)
    for day in calendar.trading_days(START, END):
        for u in UNDERLYINGS:
            ours = [m for m in lake.manifests(day=day) if m.run_id == report.run_id and m.underlying == u]
            (contracts,) = [m for m in ours if m.dataset == "option_contracts"]
            (snapshots,) = [m for m in ours if m.dataset == "option_snapshots"]
            assert snapshots.rows == contracts.rows > 250
            requests = contracts.stats["requests"] + snapshots.stats["requests"]
            assert requests == math.ceil(snapshots.rows / 250) + 1


def test_run_publishes_the_marts_after_the_transform(demo_run) -> None:  # type: ignore[no-untyped-def]
    settings, report = demo_run
    assert list(report.seconds) == ["ingest", "load", "transform", "publish"]
    assert current_version(snapshot_root(settings)) == report.publish.version


def test_rerunning_the_range_changes_no_mart(demo_run) -> None:  # type: ignore[no-untyped-def]
    settings, _ = demo_run
    before = mart_fingerprints(settings)
    assert set(MARTS) <= set(before)
    steps.run(steps.Resources.from_settings(settings), start=START, end=END, underlyings=UNDERLYINGS)
    assert mart_fingerprints(settings) == before


def test_smelt_publish_is_a_step_of_its_own(demo_run) -> None:  # type: ignore[no-untyped-def]
    """What Argo's publish task runs: a new snapshot of the built marts, without building them again."""
    settings, _ = demo_run
    before = current_version(snapshot_root(settings))
    done = CliRunner().invoke(
        app, ["publish", "--run-id", "smelt-daily-p1"], env={"SMELT_HOME": str(settings.home)}
    )
    assert done.exit_code == 0, done.output
    after = current_version(snapshot_root(settings))
    assert after is not None and after != before
    assert all(
        path.stat().st_size > 0 for path in mart_files(snapshot_root(settings), after)["mart_option_chain"]
    )


def test_smelt_publish_full_rewrites_every_partition(demo_run) -> None:  # type: ignore[no-untyped-def]
    """`smelt publish` after a build it already published writes nothing new; `--full` writes every partition."""
    settings, _ = demo_run
    runner, env = CliRunner(), {"SMELT_HOME": str(settings.home)}
    root = snapshot_root(settings)
    assert runner.invoke(app, ["publish"], env=env).exit_code == 0
    quiet = mart_files(root, str(current_version(root)))
    done = runner.invoke(app, ["publish", "--full"], env=env)
    assert done.exit_code == 0, done.output
    version = str(current_version(root))
    full = mart_files(root, version)
    assert all(version in path.name for paths in full.values() for path in paths)
    assert not {p for ps in quiet.values() for p in ps} & {p for ps in full.values() for p in ps}


def _no_loader_process(settings: object) -> NoReturn:
    raise AssertionError("a run with no day to load beside the ingest spawned a loader process")


@pytest.mark.slow  # a whole run through dbt, two days of one underlying
def test_a_history_only_run_loads_in_its_own_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every day is past (the backfill path loads after its fetch): nothing overlaps, so no loader process is
    spawned for it, and every day is still loaded before the transform."""
    monkeypatch.setattr(importlib.import_module("workflows.steps.run"), "_loader", _no_loader_process)
    settings = make_settings(tmp_path / "home", underlyings=("IWM",), sim_snapshot_history=False)
    days = calendar.trading_days(START, END)[:2]
    assert plan(settings, days).days_on("backfill") == days
    report = steps.run(steps.Resources.from_settings(settings), start=days[0], end=days[-1])
    assert report.loaded_rows == report.ingested_rows > 0
    assert list(report.seconds) == ["ingest", "load", "transform", "publish"]
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        loaded = con.execute("select distinct trade_date from marts.mart_option_chain order by 1").fetchall()
    assert [d for (d,) in loaded] == days
