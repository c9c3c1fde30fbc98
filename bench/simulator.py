"""Benchmark: the simulator's option range requests per second, and one whole-market day priced at once.

1. Range requests: a backfill's access pattern (every contract of an underlying listed on the window's first
   or last session, one ``/v2/aggs/ticker/O:.../range/1/day/{start}/{end}`` request each, the client's
   concurrency of 8, its ``X-Sim-Now`` header) through the in-process ASGI app (httpx ``ASGITransport``, as the embedded mode runs
   it). ``--baseline-tree DIR`` runs the same requests in a subprocess against another checkout's
   ``workflows`` (e.g. main before the range cache, exported with ``git archive``): same machine, same run.
2. ``--market``: the time and peak RSS of pricing every underlying's chain of one day of the whole-market
   universe (``SMELT_SIM_UNIVERSE=market``), in a subprocess of its own.

    .venv/bin/python bench/simulator.py [--underlyings AAPL,SPY,V,XOM] [--days 30] [--baseline-tree DIR]
                                        [--market] [--market-day 2026-11-24]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DAY = dt.date(2026, 11, 24)
CONCURRENCY = 8


def measure_ranges(underlyings: list[str], days: int, end: dt.date) -> dict[str, float]:
    """Requests, seconds and requests/s of every contract's range request, model build excluded."""
    import httpx

    from workflows import calendar
    from workflows.simulator import create_app

    start = calendar.previous_trading_days(end, days)[0]
    app = create_app(seed=7, now=end)
    options = app.state.options
    tickers = sorted({t for u in underlyings for d in (start, end) for t in options.contracts(u, d).tickers})

    async def run() -> tuple[int, int, float]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": "Bearer bench", "X-Sim-Now": end.isoformat()}  # as the pipeline's client
        async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=headers) as client:
            for u in underlyings:  # build each underlying's price series outside the timing
                (await client.get(f"/v2/aggs/ticker/{u}/range/1/day/{start}/{end}")).raise_for_status()
            gate = asyncio.Semaphore(CONCURRENCY)
            bars = 0

            async def one(ticker: str) -> None:
                nonlocal bars
                async with gate:
                    response = await client.get(f"/v2/aggs/ticker/{ticker}/range/1/day/{start}/{end}")
                    response.raise_for_status()
                    bars += len(response.json().get("results", []))

            started = time.perf_counter()
            await asyncio.gather(*(one(t) for t in tickers))
            return len(tickers), bars, time.perf_counter() - started

    requests, bars, seconds = asyncio.run(run())
    return {"requests": requests, "bars": bars, "seconds": round(seconds, 2),
            "requests_per_s": round(requests / seconds, 1)}  # fmt: skip


def measure_market_day(day: dt.date) -> dict[str, float]:
    """Price every underlying's chain of one whole-market day (contracts listed, quotes with Greeks)."""
    import resource

    from workflows.simulator.market import SERIES_BATCH, Market
    from workflows.simulator.options import OptionMarket
    from workflows.simulator.universe import market_underlyings

    started = time.perf_counter()
    tickers = market_underlyings(7)
    market = Market(seed=7, underlyings=tickers, universe="market")
    options = OptionMarket(market)
    built = time.perf_counter() - started
    contracts = 0
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(tickers), SERIES_BATCH):
        batch = tickers[first : first + SERIES_BATCH]
        market.prefetch(batch)
        contracts += sum(len(chain.contracts) for chain in options.chains(batch, day))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"underlyings": len(tickers), "contracts": contracts, "model_build_s": round(built, 1),
            "chains_s": round(seconds, 1), "chains_cpu_s": round(cpu, 1),
            "contracts_per_cpu_s": round(contracts / cpu),
            "peak_rss_mib": round(peak_mib)}  # fmt: skip


def in_subprocess(function: str, args: list[str], tree: Path | None = None) -> dict[str, float]:
    """Run one measurement in a fresh interpreter (optionally on another checkout's ``workflows``)."""
    env = {**os.environ, "PYTHONPATH": str(tree) if tree else os.environ.get("PYTHONPATH", "")}
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import simulator as b; "
        f"print(json.dumps(b.{function}(*b.parse_args(sys.argv[1:]))))"
    )
    cwd = tree or Path(__file__).resolve().parent.parent  # "-c" puts the working folder first on sys.path
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def parse_args(argv: list[str]) -> tuple[object, ...]:
    """Arguments of a measurement run in a subprocess: ranges (underlyings, days, end) or a market day."""
    if argv[0] == "ranges":
        return argv[1].split(","), int(argv[2]), dt.date.fromisoformat(argv[3])
    return (dt.date.fromisoformat(argv[1]),)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--underlyings", default="AAPL,SPY,V,XOM")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DAY)
    parser.add_argument("--baseline-tree", type=Path, help="a checkout whose simulator is the baseline")
    parser.add_argument("--market", action="store_true", help="also price a whole-market day")
    parser.add_argument("--market-day", type=dt.date.fromisoformat, default=DAY)
    args = parser.parse_args()
    ranges = ["ranges", args.underlyings, str(args.days), args.end.isoformat()]
    rows = []
    if args.baseline_tree:
        rows.append(("baseline", in_subprocess("measure_ranges", ranges, args.baseline_tree.resolve())))
    rows.append(("this tree", in_subprocess("measure_ranges", ranges)))
    print(
        f"range requests, {args.underlyings}, {args.days} sessions to {args.end}, concurrency {CONCURRENCY}:"
    )
    print("| simulator | requests | bars | seconds | requests/s | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    base = rows[0][1]["requests_per_s"]
    for name, r in rows:
        ratio = r["requests_per_s"] / base
        print(
            f"| {name} | {r['requests']:,} | {r['bars']:,} | {r['seconds']} | {r['requests_per_s']:,} | {ratio:.1f}x |"
        )
    if args.market:
        print(
            "whole-market day:", in_subprocess("measure_market_day", ["market", args.market_day.isoformat()])
        )


if __name__ == "__main__":
    main()
