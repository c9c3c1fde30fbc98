"""Benchmark: an incremental one-day `smelt transform` over a year of simulated history vs a full refresh.

Builds a year of history on the simulator (ingest + load of every trading day, then one build), lands one
more day, and times in the same script: the incremental build of that day, and a `--full-refresh` build of
the same data, both after dbt is imported and the project parsed once. Target: incremental / full <= 0.2.

    .venv/bin/python bench/transform.py [--days 252] [--underlyings AAPL,SPY,TSLA,NVDA,IWM]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from workflows import calendar, logs, steps
from workflows.settings import load_settings


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=252)
    parser.add_argument("--underlyings", default="AAPL,SPY,TSLA,NVDA,IWM")
    parser.add_argument("--home", type=Path, default=None, help="reuse a built history (skips ingest)")
    args = parser.parse_args()
    logs.configure("json", "warning")
    home = args.home or Path(tempfile.mkdtemp(prefix="smelt-bench-")) / "home"
    tickers = tuple(args.underlyings.split(","))
    settings = load_settings(home=home, underlyings=tickers, log_format="json", log_level="warning")
    resources = steps.Resources.from_settings(settings)
    days = calendar.previous_trading_days(calendar.last_completed_trading_day(), args.days + 1)
    history, new_day = days[:-1], days[-1]

    build_seconds = 0.0
    if not settings.duckdb.path.exists():
        started = time.perf_counter()
        steps.run(resources, start=history[0], end=history[-1], underlyings=tickers)
        build_seconds = time.perf_counter() - started
    for ingest in (steps.ingest_stocks, steps.ingest_options):
        ingest(resources, new_day)  # type: ignore[operator]
    steps.load(resources, new_day)

    # import dbt and parse once, so neither timed build pays for it
    resources.dbt.invoke("parse")
    incremental = timed(lambda: steps.transform(resources))
    full = timed(lambda: steps.transform(resources, full_refresh=True))
    again = timed(lambda: steps.transform(resources))  # a no-new-data incremental, for reference
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        snapshots = con.execute("select count(*) from raw.polygon_option_snapshots").fetchone()[0]
        bars = con.execute("select count(*) from raw.polygon_stock_bars").fetchone()[0]
    print(
        f"## Transform: incremental one day vs full refresh ({len(days)} trading days, {len(tickers)} underlyings)\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| history | {days[0]} .. {days[-1]}: {bars:,} stock bars, {snapshots:,} option snapshots |")
    if build_seconds:
        print(f"| building the history (`smelt run`, ingest+load+first build) | {build_seconds:.0f} s |")
    print(f"| incremental `smelt transform` after one new day | {incremental:.1f} s |")
    print(f"| `smelt transform --full-refresh` of the same data | {full:.1f} s |")
    print(f"| incremental run with no new data | {again:.1f} s |")
    print(f"| ratio incremental / full refresh | {incremental / full:.2f} (target <= 0.2) |")
    print(f"\nhistory kept at {home}")


if __name__ == "__main__":
    main()
