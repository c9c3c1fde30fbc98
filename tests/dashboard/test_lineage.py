"""Lineage, on the dashboard's build (five weeks, AAPL and SPY; END through the chain snapshot, the days before
it through the backfill path; the whole simulated market's stock bars, AVHHI splitting 1-for-10 on 2026-10-30):

* `smelt trace` of a contract on the snapshot day and on a backfill day, and of a stock bar across a split,
  names a lake line that, read from the lake itself, holds the mart's value, and the request that fetched it;
* no trace shows the API key;
* the chain page's provenance panel shows the request id of the clicked contract, read from the snapshot, and
  a NULL computed IV says why (in the grid row and in the panel); the strategy page's panel the same.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import duckdb
import pytest
from typer.testing import CliRunner

from dashboard.pages import chain, strategy
from dashboard.queries import Queries
from tests.dashboard.support import END
from workflows.cli import app
from workflows.lake import Lake
from workflows.settings import Settings
from workflows.trace import Trace, trace
from workflows.warehouse.duckdb import DuckDBWarehouse

# the session's dashboard build may be set up by this module: minutes on a busy 2-core machine
pytestmark = pytest.mark.timeout(1200)

BACKFILL_DAY = dt.date(2026, 11, 20)
SPLIT_TICKER, SPLIT_DAY, BEFORE_SPLIT = "AVHHI", dt.date(2026, 10, 30), dt.date(2026, 10, 29)
#: A sentinel key in the environment of every trace: it must never be printed.
KEY = "pk_lineage_sentinel_0123456789"


def _query(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def follow(built_home: Settings) -> Iterator[Any]:
    lake = Lake.open(built_home.lake, built_home.s3_endpoint_url)
    with duckdb.connect(str(built_home.duckdb.path), read_only=True) as con:
        warehouse = DuckDBWarehouse(built_home.duckdb.path, connection=con)
        yield lambda key, day: trace(warehouse, lake, key, day)


def _lake_line(settings: Settings, part: str, line: int) -> dict[str, Any]:
    """The named line, read from the lake folder directly (not through the code under test)."""
    data = gzip.decompress((built_lake(settings) / part).read_bytes()).decode().splitlines()
    return json.loads(data[line - 1])  # type: ignore[no-any-return]


def built_lake(settings: Settings) -> Path:
    return Path(url2pathname(urlparse(settings.lake).path))


def _check_custody(settings: Settings, landing: Any) -> None:
    """The manifest lists the part with its sha256, and the ledger's manifest sha256 is the stored bytes'."""
    root = built_lake(settings)
    manifest_bytes = (root / landing.manifest_key).read_bytes()
    assert landing.manifest_sha256 == hashlib.sha256(manifest_bytes).hexdigest()
    listed = {p["key"]: p["sha256"] for p in json.loads(manifest_bytes)["parts"]}
    assert (
        listed[landing.source_file] == hashlib.sha256((root / landing.source_file).read_bytes()).hexdigest()
    )


def _option(settings: Settings, day: dt.date, where: str = "close > 0") -> tuple[str, float]:
    [(ticker, close)] = _query(settings, f"""
        select option_ticker, close from marts.mart_option_chain
        where underlying = 'SPY' and trade_date = ? and {where} order by option_ticker limit 1""", [day])  # fmt: skip
    return ticker, float(close)


def test_a_snapshot_day_contract_traces_to_its_snapshot_line_and_request(
    built_home: Settings, follow: Any
) -> None:
    ticker, close = _option(built_home, END)
    found: Trace = follow(ticker, END)
    models = [m.model for m in found.models]
    assert models[-1] == "stg_polygon__option_snapshots" and "int_options__pricing_inputs" in models
    bar, spot = found.landing
    assert (bar.role, bar.table) == ("option bar", "raw.polygon_option_snapshots")
    line = _lake_line(built_home, bar.source_file, bar.source_row)
    assert line["details"]["ticker"] == ticker and line["day"]["close"] == close
    assert bar.request["request_id"] == line["_meta"]["request_id"] and bar.request["request_id"]
    assert bar.request["request"].startswith("/v3/snapshot/options/SPY")
    assert bar.request["source"] == "simulator" and bar.request["fetched_at"] == line["_meta"]["fetched_at"]
    assert bar.ledger is not None and bar.ledger["dataset"] == "option_snapshots"
    _check_custody(built_home, bar)
    # the spot: the underlying's grouped-daily line holds the chain's underlying price
    assert spot.role == "underlying bar"
    spot_line = _lake_line(built_home, spot.source_file, spot.source_row)
    assert spot_line["T"] == "SPY" and spot_line["c"] == found.mart.row["underlying_price"]
    assert spot.request["request"] == f"/v2/aggs/grouped/locale/us/market/stocks/{END}?adjusted=false"
    # the Greeks' inputs are the chain row's
    assert found.greeks is not None
    assert found.greeks["inputs"]["option_price"] == found.mart.row["option_price"]
    assert found.greeks["inputs"]["risk_free_rate"] == found.mart.row["risk_free_rate"]


def test_a_backfill_day_contract_traces_to_its_range_request(built_home: Settings, follow: Any) -> None:
    ticker, close = _option(built_home, BACKFILL_DAY)
    found: Trace = follow(ticker, BACKFILL_DAY)
    bar = found.landing[0]
    assert bar.table == "raw.polygon_option_bars" and found.models[-1].model == "stg_polygon__option_bars"
    line = _lake_line(built_home, bar.source_file, bar.source_row)
    assert line["_meta"]["ticker"] == ticker and line["c"] == close
    # one request covered the whole range: its path names the contract and the range, and its query
    assert bar.request["request"].startswith(f"/v2/aggs/ticker/{ticker}/range/1/day/")
    assert bar.request["request_id"] == line["_meta"]["request_id"]
    _check_custody(built_home, bar)


def test_a_null_computed_iv_traces_with_its_reason_and_inputs(built_home: Settings, follow: Any) -> None:
    ticker, _ = _option(
        built_home, BACKFILL_DAY, "implied_volatility is null and computed_status <> 'pending'"
    )
    found: Trace = follow(ticker, BACKFILL_DAY)
    assert found.greeks is not None
    status = found.greeks["status"]
    assert status not in (None, "solved", "pending") and found.greeks["reason"]
    assert set(found.greeks["inputs"]) >= {"option_price", "underlying_price", "risk_free_rate", "dividend_yield",
                                           "years_to_expiry"}  # fmt: skip


def test_a_stock_bar_across_a_split_traces_to_its_unadjusted_line_and_the_split(
    built_home: Settings, follow: Any
) -> None:
    found: Trace = follow(SPLIT_TICKER, BEFORE_SPLIT)
    row = found.mart.row
    assert float(row["split_adjustment_factor"]) == pytest.approx(0.1)
    assert float(row["close_adj"]) == pytest.approx(float(row["close"]) * 0.1)
    bar, split = found.landing
    line = _lake_line(built_home, bar.source_file, bar.source_row)
    assert line["T"] == SPLIT_TICKER and line["c"] == row["close"]  # the lake holds the unadjusted close
    assert bar.request["request"] == f"/v2/aggs/grouped/locale/us/market/stocks/{BEFORE_SPLIT}?adjusted=false"
    split_line = _lake_line(built_home, split.source_file, split.source_row)
    assert split.role == "split" and split_line["ticker"] == SPLIT_TICKER
    assert split_line["execution_date"] == SPLIT_DAY.isoformat()
    assert (split_line["split_from"], split_line["split_to"]) == (1, 10)
    _check_custody(built_home, split)
    # after the split, no split adjusts the bar
    assert [r.role for r in follow(SPLIT_TICKER, SPLIT_DAY).landing] == ["stock bar"]


def test_smelt_trace_prints_text_and_json_without_the_key(
    built_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMELT_HOME", str(built_home.home))
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    ticker, _ = _option(built_home, END)
    text = CliRunner().invoke(app, ["trace", ticker, "--date", END.isoformat()])
    assert text.exit_code == 0, text.output
    assert "request_id" in text.output and "/v3/snapshot/options/SPY" in text.output
    as_json = CliRunner().invoke(app, ["trace", ticker, "--date", END.isoformat(), "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert document["landing"][0]["request"]["request_id"]
    for output in (text.output, as_json.output):
        assert KEY not in output and "apikey" not in output.lower()
    missing = CliRunner().invoke(app, ["trace", "O:SPY991231C00001000", "--date", END.isoformat()])
    assert missing.exit_code == 3 and "no mart_option_chain row" in missing.output


# -- the dashboard's panel ----------------------------------------------------------------------------


def _chain_rows(q: Queries) -> list[dict[str, Any]]:
    expiry = q.expiries("SPY", END)["expiration_date"].iloc[3]
    rows, *_ = chain.chain_table(q, "SPY", END.isoformat(), str(expiry), "all", "light")
    return rows  # type: ignore[no-any-return]


def _text(component: Any) -> str:
    """Every string in a Dash component tree."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    return _text(getattr(component, "children", None) or "")


def test_the_chain_panel_shows_the_clicked_contracts_request_id(q: Queries, built_home: Settings) -> None:
    rows = _chain_rows(q)
    row = rows[len(rows) // 2]
    contract = row["put_option_ticker"]
    strike = row["strike_price"]  # the grid's row id, as JavaScript prints the number
    row_id = str(int(strike)) if float(strike).is_integer() else str(strike)
    cell = {"colId": "put_delta", "rowId": row_id, "rowIndex": 3, "value": row["put_delta"]}
    panel = _text(chain.contract_provenance(q, cell, rows, "SPY", END.isoformat()))
    [(request_id, request)] = _query(built_home, """
        select record->>'$._meta.request_id', record->>'$._meta.request' from raw.polygon_option_snapshots
        where record->>'$.details.ticker' = ? and trade_date = ?""", [contract, END])  # fmt: skip
    assert contract in panel and request_id in panel and request in panel
    assert "raw/_manifests/option_snapshots/" in panel
    # the strike column names no contract: the panel keeps asking
    strike_cell = {"colId": "strike_price", "rowId": row_id}
    assert "Select a contract" in _text(
        chain.contract_provenance(q, strike_cell, rows, "SPY", END.isoformat())
    )


def test_a_null_iv_says_why_in_the_grid_and_the_panel(q: Queries) -> None:
    rows = _chain_rows(q)
    missing = [(r, side) for r in rows for side in ("call", "put")
               if r.get(f"{side}_option_ticker") and r.get(f"{side}_implied_volatility") is None]  # fmt: skip
    assert missing, "the far strikes of a chain have no implied volatility"
    row, side = missing[0]
    status = row[f"{side}_computed_status"]
    assert status and status != "solved"
    iv_column = next(c for group in chain.COLUMNS if "children" in group for c in group["children"]
                     if c["field"] == f"{side}_implied_volatility")  # fmt: skip
    assert f"params.data.{side}_computed_status" in iv_column["tooltipValueGetter"]["function"]
    cell = {"colId": f"{side}_implied_volatility", "rowId": str(row["strike_price"])}
    panel = _text(chain.contract_provenance(q, cell, rows, "SPY", END.isoformat()))
    assert f"No implied volatility: {status}" in panel


def test_the_strategy_panel_shows_the_picked_contracts_provenance(q: Queries) -> None:
    contract = _chain_rows(q)[0]["call_option_ticker"]
    panel = _text(
        strategy.provenance.describe(q, "SPY", END.isoformat(), strategy._picked({"rowId": contract}))
    )
    assert contract in panel and "request id" in panel
    refused = _text(strategy.provenance.describe(q, "SPY", END.isoformat(), "O:AAPL991231C00001000"))
    assert "not on SPY" in refused
