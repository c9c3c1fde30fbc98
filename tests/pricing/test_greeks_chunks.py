"""The greeks step reads and solves pending contract-days in chunks bounded in rows, never a whole day (or
twenty) at once: a whole-market day holds 1.4 million of them. Real DuckDB, a folder lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workflows.lake import Lake
from workflows.steps import greeks
from workflows.steps.greeks import chunks, compute_greeks
from workflows.warehouse.duckdb import DuckDBWarehouse

DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 23), dt.date(2026, 11, 24))
#: Contracts per underlying and day (113 a day); a name with a quote in it, to be quoted in SQL.
SIZES = {"AAPL": 30, "IWM": 8, "O'NEIL": 5, "SPY": 70}


def _inputs(warehouse: DuckDBWarehouse) -> int:
    rows = []
    for day in DAYS:
        for underlying, n in SIZES.items():
            for j in range(n):
                call = j % 2 == 0
                strike = 80.0 + j
                rows.append(
                    (f"O:{underlying[:4]}{day:%y%m%d}{'C' if call else 'P'}{int(strike * 1000):08d}", day,
                     underlying, "call" if call else "put", "american", strike, 100.0, 0.25, 4.0 + j % 7,
                     0.04, 0.01, f"h{day}{underlying}{j}", "simulator")
                )  # fmt: skip
    columns = ("option_ticker", "trade_date", "underlying", "contract_type", "exercise_model", "strike_price",
               "underlying_price", "years_to_expiry", "option_price", "risk_free_rate", "dividend_yield",
               "inputs_hash", "source")  # fmt: skip
    inputs = pd.DataFrame(rows, columns=list(columns))
    with warehouse._cursor() as cur:
        cur.execute("create schema if not exists intermediate")
        cur.register("inputs", inputs)
        cur.execute("create table intermediate.int_options__pricing_inputs as select * from inputs")
    return len(rows)


def test_chunks_are_runs_of_whole_units_within_the_limit() -> None:
    d1, d2 = DAYS[:2]
    units = [(d1, "A", 20), (d1, "B", 20), (d1, "C", 20), (d2, "A", 90), (d2, "B", 5), (d2, "C", 5)]
    assert chunks(units, 50) == [((d1, "A"), (d1, "B")), ((d1, "C"), (d1, "C")), ((d2, "A"), (d2, "A")),
                                 ((d2, "B"), (d2, "C"))]  # fmt: skip
    assert chunks([], 50) == []


@pytest.mark.parametrize(
    ("limit", "reads"),
    [
        (50, [43, 70] * 3),  # AAPL + IWM + O'NEIL, then SPY (above the limit) alone, each day
        (250, [226, 113]),  # a chunk spans two days
    ],
)
def test_the_step_reads_every_pending_row_once_in_bounded_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int, reads: list[int]
) -> None:
    monkeypatch.setattr(greeks, "ROWS_PER_CHUNK", limit)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    total = _inputs(warehouse)
    fetched: list[int] = []
    fetch_columns = warehouse.fetch_columns

    def counting(sql: str, names: Any, floats: Any = ()) -> dict[str, Any]:
        columns = fetch_columns(sql, names, floats)
        fetched.append(len(columns["option_ticker"]))
        return columns

    monkeypatch.setattr(warehouse, "fetch_columns", counting)
    lake = Lake.open((tmp_path / "lake").as_uri())
    report = compute_greeks(warehouse, lake, "run-1")
    assert report.rows == total == sum(fetched)
    assert fetched == reads
    manifests = lake.manifests(greeks.DATASET)
    units = [(m.trade_date, m.underlying) for m in manifests]
    assert len(units) == len(set(units)) == len(DAYS) * len(SIZES)  # one manifest per (day, underlying)
    assert {(m.trade_date, m.underlying): m.rows for m in manifests} == {
        (d, u): n for d in DAYS for u, n in SIZES.items()
    }
    warehouse.close()
