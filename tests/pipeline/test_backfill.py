"""Backfill of past days: one range-aggs request per contract, bars split into per-day manifests."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.pipeline.support import make_settings
from workflows import simulator, steps
from workflows.lake import Lake, Manifest

START, END = dt.date(2026, 11, 19), dt.date(2026, 11, 24)


def _records(lake: Lake, manifest: Manifest) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for part in manifest.parts:
        with lake.verified_part(part) as path:
            out += [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return out


def test_backfill_costs_one_request_per_contract_and_matches_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = []
    real = simulator.transport

    def recording(**kwargs: Any) -> Any:
        transport = real(**kwargs)
        apps.append(transport.app)
        return transport

    monkeypatch.setattr(simulator, "transport", recording)
    settings = make_settings(tmp_path / "home", underlyings=("IWM",))
    report = steps.backfill_options(steps.Resources.from_settings(settings), START, END, underlyings=("IWM",))
    lake = Lake.open(settings.lake)
    days = sorted({m.trade_date for m in lake.manifests("option_bars")})
    assert days == [dt.date(2026, 11, d) for d in (19, 20, 23, 24)]

    contracts = {r["ticker"] for m in lake.manifests("option_contracts") for r in _records(lake, m)}
    contract_requests = sum(u.requests for u in report.units if u.dataset == "option_contracts")
    bar_requests = sum(u.requests for u in report.units if u.dataset == "option_bars")
    assert contract_requests == len(days)  # one page of contracts per day
    assert bar_requests == len(contracts)  # one request per contract for the whole range
    (app,) = apps  # what the server saw, not what the client counted
    served = app.state.stats.endpoints
    assert served["aggregates"] == len(contracts) and served["options_contracts"] == len(days)

    (last_day,) = [m for m in lake.manifests("option_bars") if m.trade_date == END]
    bars = {r["_meta"]["ticker"]: r for r in _records(lake, last_day)}
    assert all(r["_meta"]["trade_date"] == END.isoformat() for r in bars.values())

    snap_settings = make_settings(tmp_path / "snap", underlyings=("IWM",))
    steps.ingest_options(steps.Resources.from_settings(snap_settings), END, mode="snapshot")
    snap_lake = Lake.open(snap_settings.lake)
    (snapshots,) = snap_lake.manifests("option_snapshots")
    for item in _records(snap_lake, snapshots):
        bar = bars[item["details"]["ticker"]]
        assert (bar["o"], bar["c"], bar["v"]) == (
            item["day"]["open"],
            item["day"]["close"],
            item["day"]["volume"],
        )
