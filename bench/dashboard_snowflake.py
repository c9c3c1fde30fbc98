"""Benchmark: the dashboard's callbacks on Snowflake (the fakesnow emulator) next to the DuckDB snapshot, over
the same marts (the same simulated days built on both; tests/snowflake/marts_both.py).

For every chart callback of bench/dashboard_bench.py, on both sources, over sampled tickers and days:
* uncached (query and answer caches off: every query is a round trip; a new build's first views);
* warm (the same view again: the answer cache, no query at all);
* the round trips each callback makes (statements sent), which is what a real warehouse charges for in time;
* the first query of a new worker (login included).

fakesnow translates Snowflake SQL to DuckDB in a local process over HTTP: its figures show the connector's
and the HTTP round trips' cost on top of the same engine, not Snowflake's speed (see docs/benchmarks.md).

    .venv/bin/python -m bench.dashboard_snowflake [--samples 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.dashboard_bench import callbacks
from dashboard.marts import MartsSource
from dashboard.queries import Queries
from tests.snowflake.conftest import fakesnow_server, write_key_pair
from tests.snowflake.marts_both import build_both
from workflows.logs import configure

START, END = dt.date(2026, 11, 16), dt.date(2026, 11, 27)
UNDERLYINGS = ("AAPL", "SPY")
DAYS = (dt.date(2026, 11, 27), dt.date(2026, 11, 25), dt.date(2026, 11, 20))


def counted(source: MartsSource) -> list[int]:
    """Count the statements ``source`` runs (one round trip each on Snowflake)."""
    count = [0]
    run = source.run

    def counting(*args: Any) -> Any:
        count[0] += 1
        return run(*args)

    source.run = counting  # type: ignore[method-assign]
    return count


def measure(make: Callable[[], MartsSource], samples: int) -> dict[str, dict[str, Any]]:
    """Per callback: uncached and warm milliseconds (all samples), and statements per uncached call."""
    source = make()
    count = counted(source)
    started = time.perf_counter()
    source.run(source.handle(), "SELECT 1 AS ok", [])
    first_ms = (time.perf_counter() - started) * 1000
    cold = Queries.over(source, 0)
    warm = Queries.over(source)
    out: dict[str, dict[str, Any]] = {
        "(first query of a worker)": {"uncached": [first_ms], "warm": [], "trips": 1}
    }
    for _ in range(samples):
        for ticker in UNDERLYINGS:
            for day in DAYS:
                for name, fn in callbacks(cold, ticker, day).items():
                    entry = out.setdefault(name, {"uncached": [], "warm": [], "trips": 0})
                    before = count[0]
                    started = time.perf_counter()
                    fn()
                    entry["uncached"].append((time.perf_counter() - started) * 1000)
                    entry["trips"] = count[0] - before
                for name, fn in callbacks(warm, ticker, day).items():
                    fn()
                    started = time.perf_counter()
                    fn()
                    out[name]["warm"].append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]:.2f}" if ordered else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3, help="rounds over the tickers and days")
    args = parser.parse_args()
    configure("console", "warning")
    with tempfile.TemporaryDirectory(prefix="smelt-bench-dash-sf-") as name:
        tmp = Path(name)
        key, _ = write_key_pair(tmp / "keys")
        with fakesnow_server(tmp / "fakesnow.log") as server:
            started = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):  # dbt's log lines: stdout is the Markdown
                built = build_both(server, key, tmp, (START, END), UNDERLYINGS, END)
            build_s = time.perf_counter() - started
            duck = measure(lambda: built.snapshot(check_seconds=1.0), args.samples)
            snow = measure(lambda: built.snowflake(check_seconds=1.0), args.samples)

    n = args.samples * len(UNDERLYINGS) * len(DAYS)
    print("## The dashboard's callbacks on Snowflake (fakesnow emulator) vs the DuckDB snapshot\n")
    print(f"Produced by `.venv/bin/python -m bench.dashboard_snowflake --samples {args.samples}` on "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}: {len(UNDERLYINGS)} "
          f"underlyings, {START}..{END} built on both (in {build_s:.0f} s), {n} calls per callback "
          f"({len(UNDERLYINGS)} tickers x {len(DAYS)} days x {args.samples}). Milliseconds; uncached = both "
          "caches off (every query sent), warm = the same view again.\n")  # fmt: skip
    print("| callback | statements | DuckDB uncached p50 / p95 | emulator uncached p50 / p95 | emulator / DuckDB (p50) "
          "| DuckDB warm p95 | emulator warm p95 |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in duck:
        d, s = duck[name], snow[name]
        ratio = statistics.median(s["uncached"]) / statistics.median(d["uncached"])
        print(f"| {name} | {s['trips']} | {pct(d['uncached'], .5)} / {pct(d['uncached'], .95)} "
              f"| {pct(s['uncached'], .5)} / {pct(s['uncached'], .95)} | {ratio:.1f}x "
              f"| {pct(d['warm'], .95)} | {pct(s['warm'], .95)} |")  # fmt: skip


if __name__ == "__main__":
    main()
