"""The embedded mode's flat files: the in-process simulator publishes past days to a local moto endpoint for
the run, and the backfill lands them plus what bars do not carry (contracts as of each day, dividends once)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import httpx
import pytest

from workflows.lake import Lake
from workflows.settings import DEFAULT_UNDERLYINGS, load_settings
from workflows.steps import Resources, backfill_flatfiles
from workflows.steps.flatfiles import embedded_flatfiles

DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 23))
UNDERLYINGS = ("AAPL", "SPY")


def test_the_embedded_backfill_lands_both_files_a_day_and_the_references(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", sim_now=dt.date(2026, 11, 24), sim_flatfiles=True,
                             underlyings=UNDERLYINGS, log_format="json")  # fmt: skip
    report = backfill_flatfiles(Resources.from_settings(settings), DAYS[0], DAYS[-1], run_id="r1")
    lake = Lake.open(settings.lake)
    landed = sorted((u.dataset, u.trade_date, u.underlying) for u in report.units)
    assert landed == sorted(
        [(d, day, None) for d in ("stock_day_aggs", "option_day_aggs") for day in DAYS]
        + [("option_contracts", day, u) for day in DAYS for u in UNDERLYINGS]
        + [("stock_dividends", DAYS[0], u) for u in UNDERLYINGS]
    )
    [options] = lake.manifests("option_day_aggs", DAYS[0])
    with lake.verified_part(options.parts[0]) as local:
        tickers = {line.split(b",")[0] for line in gzip.decompress(local.read_bytes()).splitlines()[1:]}
    listed = {
        r["ticker"].encode() for m in lake.manifests("option_contracts", DAYS[0]) for r in lake.records(m)
    }
    assert listed and listed <= tickers  # the run's underlyings' contracts as of the day all have their bar
    roots = {t[2:].rstrip(b"0123456789CP") for t in tickers}
    assert len(roots) == len(DEFAULT_UNDERLYINGS) and options.rows == len(
        tickers
    )  # the whole (simulated) market
    assert options.stats["origin"]["key"] == "us_options_opra/day_aggs_v1/2026/11/2026-11-20.csv.gz"


def test_the_local_endpoint_lives_only_as_long_as_the_block(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", sim_now=dt.date(2026, 11, 24), sim_flatfiles=True,
                             underlyings=UNDERLYINGS)  # fmt: skip
    with embedded_flatfiles(Resources.from_settings(settings), [DAYS[-1]]) as resources:
        endpoint = resources.settings.flatfiles.endpoint_url
        assert endpoint.startswith("http://127.0.0.1:") and resources.settings.flatfiles.credentials_set
        httpx.get(endpoint, timeout=5)
    with pytest.raises(httpx.TransportError):
        httpx.get(endpoint, timeout=2)


def test_ingest_options_on_the_flat_file_path_lands_the_days_files_and_references(tmp_path: Path) -> None:
    from workflows.steps import ingest_options

    settings = load_settings(home=tmp_path / "home", sim_now=dt.date(2026, 11, 24), sim_flatfiles=True,
                             log_format="json")  # fmt: skip
    report = ingest_options(Resources.from_settings(settings), DAYS[-1], underlyings=["SPY"], run_id="r1")
    assert report.step == "backfill-flatfiles"  # auto: the plan sends a past day to the flat files
    assert sorted(u.dataset for u in report.units) == [
        "option_contracts", "option_day_aggs", "stock_day_aggs", "stock_dividends"]  # fmt: skip
