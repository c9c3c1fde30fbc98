"""Benchmark: computed IV and Greeks at whole-market scale, and where the greeks step's time goes.

1. ``--market``: every contract of one whole-market day (``SMELT_SIM_UNIVERSE=market``, about 1.3 million),
   its quote midpoint solved with ``workflows.pricing.solve`` in the step's chunks (``ROWS_PER_CHUNK``):
   rows/s of the solver alone, on one core, and the peak RSS of the process.
2. ``--step N``: the greeks step itself (``compute_greeks``: read the pending rows from DuckDB, solve, write
   the lake) on N contract-days of the default universe's chains, like a cold ``make run`` transform's
   (about 340,000 over 30 days): total seconds against solve seconds, so the step's cost is seen by part.

    .venv/bin/python bench/greeks_scale.py [--market] [--step 340000] [--day 2026-11-24]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workflows.pricing import solve
from workflows.settings import DEFAULT_UNDERLYINGS
from workflows.simulator.market import SERIES_BATCH, Market
from workflows.simulator.options import Chain, OptionMarket
from workflows.simulator.universe import market_underlyings
from workflows.steps.greeks import ROWS_PER_CHUNK, compute_greeks

COLUMNS = ("call", "s", "k", "t", "r", "q", "mid")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rows_of(options: OptionMarket, chains: list[Chain], session: int) -> dict[str, np.ndarray]:
    """The solver's inputs of chains of one session: spot, strike, years, rate, dividend yield, midpoint."""
    out: dict[str, list[np.ndarray]] = {k: [] for k in (*COLUMNS, "underlying", "ticker")}
    day_ord = int(options.market.sessions[session].astype("datetime64[D]").astype(np.int64))
    for chain in chains:
        c, q = chain.contracts, chain.quotes
        n = len(c)
        out["call"].append(c.call)
        out["s"].append(q.spot)
        out["k"].append(c.strike)
        out["t"].append(q.years)
        out["r"].append(options.carry.rates(np.full(n, day_ord), q.years))
        out["q"].append(options.carry.dividend_yield(chain.underlying, np.full(n, session)))
        out["mid"].append(np.round((q.bid + q.ask) / 2, 4))
        out["underlying"].append(np.full(n, chain.underlying, dtype=object))
        out["ticker"].append(np.array(c.tickers, dtype=object))
    return {k: np.concatenate(v) for k, v in out.items()}


def market_day(day: dt.date) -> None:
    started = time.perf_counter()
    tickers = market_underlyings(7)
    options = OptionMarket(Market(seed=7, underlyings=tickers, universe="market"))
    session = options.market.session_index(day)
    assert session is not None
    parts = []
    for first in range(0, len(tickers), SERIES_BATCH):
        batch = tickers[first : first + SERIES_BATCH]
        options.market.prefetch(batch)
        parts.append(rows_of(options, options.chains(batch, day), session))
    rows = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
    priced = time.perf_counter() - started
    n = len(rows["mid"])
    solved = 0
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, n, ROWS_PER_CHUNK):
        chunk = {k: v[first : first + ROWS_PER_CHUNK] for k, v in rows.items()}
        solution = solve(
            True, chunk["call"], chunk["s"], chunk["k"], chunk["t"], chunk["r"], chunk["q"], chunk["mid"]
        )
        solved += int(solution.solved.sum())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"| whole-market day {day} | {n:,} contract-days ({solved:,} solved) | chains {priced:.0f} s | "
          f"solve {seconds:.1f} s wall, {cpu:.1f} s CPU | {n / cpu:,.0f} rows per CPU second | "
          f"peak RSS {peak_mib():,.0f} MiB |")  # fmt: skip


def step(n_rows: int, day: dt.date) -> None:
    from workflows.lake import Lake
    from workflows.warehouse.duckdb import DuckDBWarehouse

    options = OptionMarket(Market(seed=7))
    session = options.market.session_index(day)
    assert session is not None
    frames, total = [], 0
    while total < n_rows:
        d = options.market.sessions[session].astype(dt.date)
        chains = [c for u in DEFAULT_UNDERLYINGS if (c := options.chain(u, d)) is not None]
        r = rows_of(options, chains, session)
        frames.append(pd.DataFrame({
            "option_ticker": r["ticker"], "trade_date": d, "underlying": r["underlying"],
            "contract_type": np.where(r["call"], "call", "put"), "exercise_model": "american",
            "strike_price": r["k"], "underlying_price": r["s"], "years_to_expiry": r["t"],
            "option_price": r["mid"], "risk_free_rate": r["r"], "dividend_yield": r["q"],
            "inputs_hash": [f"{t}|{d}" for t in r["ticker"]], "source": "simulator",
        }))  # fmt: skip
        total += len(r["mid"])
        session -= 1
    inputs = pd.concat(frames)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = DuckDBWarehouse(Path(tmp) / "w.duckdb", memory_limit="768MB")
        with warehouse._cursor() as cur:
            cur.execute("create schema intermediate")
            cur.register("inputs", inputs)
            cur.execute("create table intermediate.int_options__pricing_inputs as select * from inputs")
        del inputs, frames
        lake = Lake.open((Path(tmp) / "lake").as_uri())
        report = compute_greeks(warehouse, lake, "bench")
        warehouse.close()
    other = report.seconds - report.solve_seconds
    print(f"| greeks step, {report.rows:,} contract-days over {len(report.days)} days | {report.seconds:.1f} s | "
          f"solve {report.solve_seconds:.1f} s ({report.rows / report.solve_seconds:,.0f} rows/s) | read and "
          f"write {other:.1f} s ({other / report.seconds:.0%}) | peak RSS {peak_mib():,.0f} MiB |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    parser.add_argument("--market", action="store_true")
    parser.add_argument("--step", type=int, default=0, help="contract-days for the step benchmark")
    args = parser.parse_args()
    if args.market:
        market_day(args.day)
    if args.step:
        step(args.step, args.day)


if __name__ == "__main__":
    main()
