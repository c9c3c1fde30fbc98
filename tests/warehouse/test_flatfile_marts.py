"""The two backfill paths agree: marts built from a day's flat files equal those built from its REST bars.

One simulated backfill day is ingested the REST way (grouped stock bars, one range request per contract) into
one lake. A second lake gets the same day's other datasets verbatim and, instead of the REST bars, the flat
files holding the same bars (the simulator's numbers, written as the vendor writes them). Both are loaded into
DuckDB and built by the real dbt project; every mart must hold the same rows, the VWAP columns aside, which a
flat file does not have. Then the REST bars are loaded on top of the flat-file warehouse: the REST path wins
and each stock-day and contract-day is still one row.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from tests.pipeline.support import make_settings, mart_rows
from tests.warehouse.flatfile_lake import Bar, land_bars
from workflows import steps
from workflows.lake import Lake, Manifest
from workflows.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # two ingests, three dbt builds

DAY = dt.date(2026, 11, 24)
UNDERLYINGS = ("IWM",)
REST_BARS = ("stock_bars", "option_bars")
#: Contracts of underlyings outside the universe, as the whole-market file lists them: another underlying of
#: the simulated market, an adjusted root of it, and a name that merely starts like the universe's.
OUTSIDE: list[Bar] = [
    ("O:SPY261127C00600000", 10, 1.5, 1.6, 1.7, 1.4, 3),
    ("O:SPY1261127P00550000", 2, 0.5, 0.5, 0.5, 0.5, 1),
    ("O:IWMX261127C00100000", 1, 0.2, 0.2, 0.2, 0.2, 1),
]
#: Mart columns a flat file cannot fill: the VWAP and what is computed from it.
VWAP_COLUMNS = {"vwap", "vwap_adj", "underlying_vwap"}


def _records(lake: Lake, manifest: Manifest) -> list[dict[str, Any]]:
    out = []
    for part in manifest.parts:
        with lake.verified_part(part) as path:
            out += [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return out


def _copy(source: Lake, target: Lake, manifest: Manifest) -> None:
    for part in manifest.parts:
        with source.verified_part(part) as path:
            target.storage.put_file(path, part.key)
    target.storage.put_exclusive(manifest.key, source.storage.get_bytes(manifest.key))


def _bar(ticker: str, item: dict[str, Any]) -> Bar:
    volume = item["v"]
    assert volume == int(volume), f"{ticker}: the simulator's volume {volume} is not whole"
    return (ticker, int(volume), item["o"], item["c"], item["h"], item["l"], int(item["n"]))


def _count(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_marts_from_flat_files_equal_marts_from_rest_bars(tmp_path: Path) -> None:
    rest = make_settings(tmp_path / "rest", underlyings=UNDERLYINGS, sim_now=DAY)
    rest_resources = steps.Resources.from_settings(rest)
    steps.ingest_stocks(rest_resources, DAY)
    steps.backfill_options(rest_resources, DAY, DAY, underlyings=UNDERLYINGS)
    rest_lake = Lake.open(rest.lake)

    flat = make_settings(tmp_path / "flat", underlyings=UNDERLYINGS, sim_now=DAY)
    flat_resources = steps.Resources.from_settings(flat)
    flat_lake = Lake.open(flat.lake)
    stocks: list[Bar] = []
    options: list[Bar] = []
    for manifest in rest_lake.manifests():
        if manifest.dataset == "stock_bars":
            stocks += [_bar(r["T"], r) for r in _records(rest_lake, manifest)]
        elif manifest.dataset == "option_bars":
            options += [_bar(r["_meta"]["ticker"], r) for r in _records(rest_lake, manifest)]
        else:
            _copy(rest_lake, flat_lake, manifest)
    assert len(stocks) > 100 and len(options) > 50
    run = "20261125T160000Z-00f1a7f1"
    land_bars(flat_lake, "stock_day_aggs", DAY, stocks, run_id=run)
    land_bars(flat_lake, "option_day_aggs", DAY, options + OUTSIDE, run_id=run)

    for resources in (rest_resources, flat_resources):
        steps.load(resources, DAY)
        steps.transform(resources)

    rest_marts, flat_marts = mart_rows(rest, VWAP_COLUMNS), mart_rows(flat, VWAP_COLUMNS)
    assert set(rest_marts) == set(flat_marts) and len(rest_marts) >= 5
    for name, rows in rest_marts.items():
        assert rows, name
        if (
            name == "mart_option_provenance"
        ):  # it names the path each row came through: same keys, not same rows
            assert [r[:3] for r in flat_marts[name]] == [r[:3] for r in rows], name
            assert {r[5] for r in flat_marts[name]} == {"polygon_option_day_aggs"}  # landing_table
            continue
        assert flat_marts[name] == rows, name
    assert _count(flat, "select count(*) from marts.mart_option_chain where vwap is not null") == [(0,)]
    assert _count(flat, "select count(*) from staging.stg_polygon__option_day_aggs") == [(len(options) + 3,)]
    assert _count(flat, "select distinct underlying from marts.mart_option_chain") == [UNDERLYINGS]

    # The REST bars land on top of the flat files: they win, and each stock-day and contract-day stays one row.
    for manifest in rest_lake.manifests():
        if manifest.dataset in REST_BARS:
            _copy(rest_lake, flat_lake, manifest)
    steps.load(flat_resources, DAY)
    steps.transform(flat_resources)
    # the same rows, the provenance naming the REST landing rows (their fetch columns are this copy's loads)
    assert mart_rows(flat, VWAP_COLUMNS, fetches=False) == mart_rows(rest, VWAP_COLUMNS, fetches=False)
    per_day = (
        "select count(*), count(distinct (option_ticker, trade_date)), count(vwap) "
        "from intermediate.int_polygon__option_chain_daily"
    )
    [(rows, keys, with_vwap)] = _count(flat, per_day)
    assert rows == keys == with_vwap == len(options)
    [(rows, keys, with_vwap)] = _count(
        flat, "select count(*), count(distinct (ticker, trade_date)), count(vwap) "
        "from intermediate.int_polygon__stock_bars_adjusted",
    )  # fmt: skip
    assert rows == keys == with_vwap == len(stocks)
