"""`smelt run` as a new user runs it: the embedded defaults backfill past days older than the replayed daily
runs (decision 107; one here, the latest session's, so every past day is older) from the simulator's flat files
(a local S3 endpoint for the run), and the marts hold every day as the REST path would; a flat-file bar traces to
the vendor's object."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from workflows import calendar, steps
from workflows.lake import Lake
from workflows.settings import load_settings
from workflows.trace import trace
from workflows.warehouse.duckdb import DuckDBWarehouse

START, END = dt.date(2026, 11, 20), dt.date(2026, 11, 25)
UNDERLYINGS = ("AAPL", "SPY")


@pytest.mark.slow
def test_the_default_run_backfills_from_flat_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMELT_SIM_FLATFILES")  # the product's default, not the suites' REST pin
    settings = load_settings(
        home=tmp_path / "home", sim_now=END, underlyings=UNDERLYINGS, log_format="json", sim_daily_runs=1
    )
    assert settings.simulator.flatfiles
    report = steps.run(steps.Resources.from_settings(settings), start=START, end=END)
    days = calendar.trading_days(START, END)
    assert report.days == days

    lake = Lake.open(settings.lake)
    ours = [m for m in lake.manifests() if m.run_id == report.run_id]
    past, latest = days[:-1], days[-1]
    by_day = {d: {m.dataset for m in ours if m.trade_date == d} for d in days}
    for day in past:  # two objects a day, no range request per contract
        assert {"stock_day_aggs", "option_day_aggs"} <= by_day[day] and "option_bars" not in by_day[day], day
    assert "option_snapshots" in by_day[latest]  # the latest session still comes from the chain snapshot

    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        chain = dict(
            con.execute(
                "select trade_date, count(*) from marts.mart_option_chain where close > 0 group by 1"
            ).fetchall()
        )
        assert sorted(chain) == days and min(chain.values()) > 500
        # the day's file lists the simulated market's 20 underlyings; the run models its own two (decision 110)
        modelled = con.execute(
            "select distinct underlying from marts.mart_option_chain order by 1"
        ).fetchall()
        assert modelled == [(u,) for u in sorted(UNDERLYINGS)]
        stocks = con.execute(
            "select count(distinct trade_date) from marts.mart_stock_daily where ticker in ('AAPL', 'SPY')"
        ).fetchone()
        assert stocks == (len(days),)
        # one row per contract-day, whichever path landed it
        dupes = con.execute(
            "select count(*) from (select option_ticker, trade_date from marts.mart_option_chain "
            "group by all having count(*) > 1)"
        ).fetchone()
        assert dupes == (0,)
        [(contract, close)] = con.execute(
            "select option_ticker, close from marts.mart_option_chain where trade_date = ? and close > 0 "
            "and underlying = 'SPY' order by option_ticker limit 1",
            [past[0]],
        ).fetchall()
        # a flat-file bar traces to the vendor's object the manifest names, and its CSV line holds the close
        found = trace(DuckDBWarehouse(settings.duckdb.path, connection=con), lake, contract, past[0])
    bar = found.landing[0]
    assert (
        bar.table == "raw.polygon_option_day_aggs"
        and found.models[-1].model == "stg_polygon__option_day_aggs"
    )
    assert bar.origin is not None and bar.origin["key"].endswith(f"{past[0]}.csv.gz") and bar.origin["etag"]
    assert bar.lake_line is not None and float(json.loads(bar.lake_line)["close"]) == close
    assert bar.ledger is not None and bar.ledger["dataset"] == "option_day_aggs"
