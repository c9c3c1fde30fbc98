"""The embedded demo's history as a month of daily runs would have landed it (decision 107): each of the latest
sessions replayed through the chain snapshot with the in-process simulator's clock at its close, so past days
carry open interest; Polygon and a served simulator never replay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from workflows import calendar, steps
from workflows.lake import Lake
from workflows.settings import Settings, load_settings
from workflows.steps.errors import StepError
from workflows.steps.plan import plan

END = dt.date(2026, 11, 27)  # the simulator's clock: just after this (early) close
PAST = dt.date(2026, 11, 24)  # a past session: the vendor-like snapshot no longer shows it
TICKER = "AAPL"


def _settings(home: Path, **overrides: Any) -> Settings:
    return load_settings(home=home, underlyings=(TICKER,), sim_now=END, sim_market_size=30, log_format="json",
                         **overrides)  # fmt: skip


def _snapshot_items(settings: Settings, day: dt.date) -> list[dict[str, Any]]:
    lake = Lake.open(settings.lake)
    (manifest,) = lake.manifests("option_snapshots", day)
    return sorted(
        ({k: v for k, v in r.items() if k != "_meta"} for r in lake.records(manifest)),
        key=lambda r: r["details"]["ticker"],
    )


def test_a_replayed_day_lands_the_snapshot_that_day_s_evening_served(tmp_path: Path) -> None:
    """Byte for byte the chain the simulator serves for that day when it replays snapshots on request, with
    open interest, and nothing of the latest session's chain."""
    replayed = _settings(tmp_path / "replayed", sim_daily_runs=30)
    assert plan(replayed, [PAST]).path(PAST) == "replay"
    steps.ingest_options(steps.Resources.from_settings(replayed), PAST, mode="auto")

    served = _settings(tmp_path / "served", sim_snapshot_history=True)
    steps.ingest_options(steps.Resources.from_settings(served), PAST, mode="snapshot")

    items = _snapshot_items(replayed, PAST)
    assert items == _snapshot_items(served, PAST) and len(items) > 250
    assert all(isinstance(i.get("open_interest"), int) for i in items)
    latest = _settings(tmp_path / "latest", sim_daily_runs=0)  # the vendor-like snapshot at END
    steps.ingest_options(steps.Resources.from_settings(latest), END, mode="snapshot")
    assert items != _snapshot_items(latest, END)


@pytest.mark.parametrize(
    "overrides",
    [{"sim_url": "http://sim.example:8700"}, {"source": "polygon", "polygon_api_key": "k-for-the-test"}],
    ids=["served simulator", "polygon"],
)
def test_only_the_in_process_simulator_replays(tmp_path: Path, overrides: dict[str, Any]) -> None:
    settings = _settings(tmp_path / "home", sim_daily_runs=30, **overrides)
    assert plan(settings, [PAST], now=calendar.session_close(END)).path(PAST) != "replay"
    with pytest.raises(StepError) as refused:  # forced, it is refused before any request
        steps.ingest_options(steps.Resources.from_settings(settings), PAST, mode="replay")
    assert not refused.value.retryable and "only by the in-process simulator" in str(refused.value)
    assert not Lake.open(settings.lake).manifests()


@pytest.mark.slow
def test_the_default_run_lands_open_interest_on_every_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smelt run` with the product's defaults (flat files on, 30 daily runs): the days in reach of the replay
    come through the snapshot, so every day of the positioning mart has open interest and max pain."""
    monkeypatch.delenv("SMELT_SIM_DAILY_RUNS")
    monkeypatch.delenv("SMELT_SIM_FLATFILES")
    settings = _settings(tmp_path / "home")
    assert settings.simulator.daily_runs == 30 and settings.simulator.flatfiles
    start = dt.date(2026, 11, 23)
    report = steps.run(steps.Resources.from_settings(settings), start=start, end=END)
    days = calendar.trading_days(start, END)
    lake = Lake.open(settings.lake)
    landed = {d: {m.dataset for m in lake.manifests(day=d) if m.run_id == report.run_id} for d in days}
    for day in days:
        assert "option_snapshots" in landed[day], day
        assert not landed[day] & {"option_bars", "option_day_aggs", "stock_day_aggs"}, day
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        rows = con.execute(
            "select trade_date, total_open_interest, put_call_open_interest_ratio, nearest_expiry_max_pain_strike "
            "from marts.mart_options_positioning order by trade_date"
        ).fetchall()
    assert [r[0] for r in rows] == days
    assert all(r[1] > 0 and r[2] > 0 and r[3] > 0 for r in rows), rows
