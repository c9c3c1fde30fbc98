"""The simulator's flat files say what its REST endpoints say for the same day: the grouped daily bars
(unadjusted) for stocks, the range aggregates and the chain snapshot's day bar for contracts."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.flatfiles.support import SIM_NOW, Endpoint, flatfile_settings, s3
from workflows.cli import app
from workflows.flatfiles import COLUMNS, FlatFilesClient, published_at, vendor_key
from workflows.flatfiles.objects import window_start_ns
from workflows.settings import Settings
from workflows.simulator import create_app
from workflows.simulator import flatfiles as published
from workflows.steps.source import embedded_simulator, open_client

DAY = dt.date(2026, 11, 23)  # a split-free Monday before the clock (SIM_NOW), so its files are published
SAMPLE_UNDERLYINGS = ("AAPL", "SPY")


@pytest.fixture
def files(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str
) -> tuple[Settings, dict[str, list[dict[str, str]]]]:
    # the snapshot replays DAY's close (the vendor's shows only the latest session)
    settings = flatfile_settings(tmp_path / "home", flatfile_endpoint, bucket, sim_snapshot_history=True)
    options = create_app(**embedded_simulator(settings)).state.options
    done, later = published.publish(FlatFilesClient.from_settings(settings.flatfiles), options, [DAY],
                                    ["stock_day_aggs", "option_day_aggs"], published_at(DAY))  # fmt: skip
    assert later == [] and [p.key for p in done] == [
        vendor_key(d, DAY) for d in ("stock_day_aggs", "option_day_aggs")
    ]
    rows = {}
    for dataset in ("stock_day_aggs", "option_day_aggs"):
        body = s3(flatfile_endpoint).get_object(Bucket=bucket, Key=vendor_key(dataset, DAY))["Body"].read()
        text = gzip.decompress(body).decode()
        assert text.splitlines()[0] == ",".join(COLUMNS)
        rows[dataset] = list(csv.DictReader(io.StringIO(text)))
    return settings, rows


async def _items(settings: Settings, pages: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    async with open_client(settings, DAY) as client:
        return [item async for page in getattr(client, pages)(*args, **kwargs) for item in page.items]


def _numbers(row: dict[str, str]) -> tuple[float, ...]:
    return (int(row["volume"]), float(row["open"]), float(row["close"]), float(row["high"]), float(row["low"]),
            int(row["transactions"]))  # fmt: skip


def _bar(item: dict[str, Any]) -> tuple[float, ...]:
    return (item["v"], item["o"], item["c"], item["h"], item["l"], item["n"])


def test_stock_rows_are_the_grouped_daily_bars(
    files: tuple[Settings, dict[str, list[dict[str, str]]]],
) -> None:
    settings, rows = files
    grouped = {item["T"]: item for item in asyncio.run(_items(settings, "grouped_daily", DAY))}
    stocks = {row["ticker"]: row for row in rows["stock_day_aggs"]}
    assert set(stocks) == set(grouped) and len(stocks) == settings.simulator.market_size
    for row in stocks.values():
        assert _numbers(row) == _bar(grouped[row["ticker"]])
        assert int(row["window_start"]) == window_start_ns(DAY)  # 00:00 New York, in ns


def test_option_rows_are_the_range_aggregates_and_the_snapshots_day_bar(
    files: tuple[Settings, dict[str, list[dict[str, str]]]],
) -> None:
    settings, rows = files
    options = {row["ticker"]: row for row in rows["option_day_aggs"]}
    for underlying in SAMPLE_UNDERLYINGS:
        chain = asyncio.run(_items(settings, "option_chain_snapshot", underlying))
        listed = {c["details"]["ticker"]: c["day"] for c in chain}
        assert listed and set(listed) <= set(options)  # every contract of the chain has its row
        for ticker in sorted(listed)[:: max(1, len(listed) // 6)]:  # a sample across expiries and strikes
            row, day = options[ticker], listed[ticker]
            assert (float(row["open"]), float(row["close"]), float(row["high"]), float(row["low"]),
                    int(row["volume"])) == (day["open"], day["close"], day["high"], day["low"], day["volume"])  # fmt: skip
            [bar] = asyncio.run(_items(settings, "aggregates", ticker, DAY, DAY))
            assert _numbers(row) == _bar(bar)
            assert int(row["window_start"]) == bar["t"] * 1_000_000


def test_publish_flatfiles_leaves_out_the_days_not_published_at_the_simulators_clock(
    tmp_path: Path, flatfile_endpoint: Endpoint, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"SMELT_HOME": str(tmp_path / "home"), "SMELT_SIM_NOW": str(SIM_NOW), "SMELT_LOG_FORMAT": "json",
                        "POLYGON_FLATFILES_ENDPOINT_URL": flatfile_endpoint.url, "POLYGON_FLATFILES_BUCKET": bucket,
                        "POLYGON_FLATFILES_ACCESS_KEY_ID": flatfile_endpoint.key_id,
                        "POLYGON_FLATFILES_SECRET_ACCESS_KEY": flatfile_endpoint.secret}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(app, ["sim", "publish-flatfiles", "--start", str(DAY), "--end", str(SIM_NOW),
                                    "--datasets", "stocks"])  # fmt: skip
    assert done.exit_code == 0, done.output
    keys = [o["Key"] for o in s3(flatfile_endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == [vendor_key("stock_day_aggs", DAY)]  # SIM_NOW's own files come the next morning
