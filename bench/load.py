"""Benchmark: the warehouse loader against DuckDB reading the same lake files straight into a table.

Generates one trading day of option-chain snapshots (records shaped like Polygon's
``/v3/snapshot/options/{underlying}`` results plus the lake's ``_meta``) through the lake's own writer,
then, alternating, times

* the loader: ``load(DuckDBWarehouse(fresh file), lake, day)``: manifests, sha256 checks, lineage
  columns, the ledger, one transaction per manifest;
* the baseline: ``CREATE TABLE t AS SELECT * FROM read_ndjson_objects([...every part...])`` into a fresh
  file, i.e. DuckDB's own reader with nothing else to do.

Both include opening and closing the database file. Prints a Markdown section for docs/benchmarks.md.

    .venv/bin/python bench/load.py [--rows 250000] [--underlyings 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from workflows.lake import DEFAULT_ROWS_PER_PART, FolderStorage, Lake
from workflows.logs import configure
from workflows.warehouse import DEFAULT_WORKERS, DuckDBWarehouse, load

DAY = dt.date(2026, 1, 5)
UNDERLYINGS = (
    "SPY", "QQQ", "IWM", "AAPL", "TSLA", "NVDA", "AMZN", "MSFT", "META", "GOOGL",
    "AMD", "NFLX", "AVGO", "JPM", "BAC", "XOM", "LLY", "UNH", "COST", "V",
)  # fmt: skip


def snapshot_item(rng: random.Random, underlying: str, spot: float, i: int) -> dict[str, Any]:
    """One option contract's snapshot, with the fields and nesting of the vendor's example."""
    expiry = DAY + dt.timedelta(days=7 * (1 + i % 26))
    kind = "call" if i % 2 == 0 else "put"
    strike = round(spot * (0.5 + (i // 2 % 200) / 200), 1)
    close = round(max(0.01, rng.gauss(5, 3)), 2)
    stamp = 1_767_646_800_000_000_000 + i
    return {
        "break_even_price": round(strike + close if kind == "call" else strike - close, 2),
        "day": {
            "change": round(rng.gauss(0, 0.5), 2),
            "change_percent": round(rng.gauss(0, 5), 2),
            "close": close,
            "high": round(close * 1.1, 2),
            "last_updated": stamp,
            "low": round(close * 0.9, 2),
            "open": round(close * rng.uniform(0.9, 1.1), 2),
            "previous_close": round(close * rng.uniform(0.9, 1.1), 2),
            "volume": rng.randrange(0, 50_000),
            "vwap": round(close * rng.uniform(0.95, 1.05), 4),
        },
        "details": {
            "contract_type": kind,
            "exercise_style": "american",
            "expiration_date": expiry.isoformat(),
            "shares_per_contract": 100,
            "strike_price": strike,
            "ticker": f"O:{underlying}{expiry:%y%m%d}{kind[0].upper()}{int(strike * 1000):08d}",
        },
        "fmv": round(close * rng.uniform(0.98, 1.02), 4),
        "greeks": {
            "delta": round(rng.uniform(-1, 1), 6),
            "gamma": round(rng.uniform(0, 0.1), 6),
            "theta": round(rng.uniform(-0.5, 0), 6),
            "vega": round(rng.uniform(0, 0.5), 6),
        },
        "implied_volatility": round(rng.uniform(0.1, 1.2), 6),
        "last_quote": {
            "ask": round(close + 0.05, 2),
            "ask_size": rng.randrange(1, 500),
            "bid": round(max(0.0, close - 0.05), 2),
            "bid_size": rng.randrange(1, 500),
            "last_updated": stamp,
            "midpoint": close,
            "timeframe": "REAL-TIME",
        },
        "last_trade": {
            "conditions": [209],
            "exchange": 316,
            "price": close,
            "sip_timestamp": stamp,
            "size": rng.randrange(1, 100),
            "timeframe": "REAL-TIME",
        },
        "open_interest": rng.randrange(0, 100_000),
        "underlying_asset": {
            "change_to_break_even": round(rng.gauss(0, 10), 4),
            "last_updated": stamp,
            "price": spot,
            "ticker": underlying,
            "timeframe": "REAL-TIME",
        },
    }


def build_lake(root: Path, rows: int, underlyings: int, rows_per_part: int) -> tuple[Lake, list[Path]]:
    """A skewed chain per underlying (index ETFs largest), written through the lake's writer."""
    lake = Lake(FolderStorage(root))
    rng = random.Random(7)
    names = UNDERLYINGS[:underlyings]
    weights = [1 / (k + 1) ** 0.7 for k in range(len(names))]
    sizes = [max(1, int(rows * w / sum(weights))) for w in weights]
    sizes[0] += rows - sum(sizes)
    for name, size in zip(names, sizes, strict=True):
        spot = round(rng.uniform(50, 900), 2)
        with lake.writer(
            "option_snapshots", DAY, name, "20260105T211500Z-bench000", "simulator", rows_per_part
        ) as w:
            for i in range(size):
                w.write(snapshot_item(rng, name, spot, i), endpoint=f"/v3/snapshot/options/{name}",
                        request_id=f"req-{i // 250}", fetched_at="2026-01-05T21:15:00.000Z")  # fmt: skip
    files = sorted(root.rglob("part-*.ndjson.gz"))
    return lake, files


def run_loader(lake: Lake, db: Path, workers: int) -> int:
    with DuckDBWarehouse(db) as wh:
        report = load(wh, lake, DAY, workers=workers)
    report.raise_for_failures()
    return report.rows


def run_baseline(files: list[Path], db: Path) -> int:
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_ndjson_objects($files, compression = 'gzip', "
            "hive_partitioning = false)",
            {"files": [str(f) for f in files]},
        )
        return int(con.execute("SELECT count(*) FROM t").fetchall()[0][0])
    finally:
        con.close()


def timed(fn: Callable[[Path], int], scratch: Path, label: str, run: int) -> tuple[float, int]:
    db = scratch / f"{label}-{run}.duckdb"
    start = time.perf_counter()
    rows = fn(db)
    seconds = time.perf_counter() - start
    for leftover in scratch.glob(f"{label}-{run}.duckdb*"):
        leftover.unlink()
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--underlyings", type=int, default=20, choices=range(1, len(UNDERLYINGS) + 1))
    parser.add_argument("--rows-per-part", type=int, default=DEFAULT_ROWS_PER_PART // 4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    configure(fmt="console", level="warning", stream=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="smelt-bench-") as tmp:
        scratch = Path(tmp)
        start = time.perf_counter()
        lake, files = build_lake(scratch / "lake", args.rows, args.underlyings, args.rows_per_part)
        generated = time.perf_counter() - start
        size = sum(f.stat().st_size for f in files)
        manifests = len(lake.manifest_keys("option_snapshots", DAY))
        print(f"generated {args.rows:,} rows in {len(files)} parts in {generated:.1f}s", file=sys.stderr)

        variants: dict[str, Callable[[Path], int]] = {
            "baseline: CREATE TABLE AS read_ndjson_objects": lambda db: run_baseline(files, db),
            "loader, workers=1": lambda db: run_loader(lake, db, 1),
            f"loader, workers={DEFAULT_WORKERS} (default)": lambda db: run_loader(lake, db, DEFAULT_WORKERS),
        }
        times: dict[str, list[float]] = {label: [] for label in variants}
        for run in range(args.repeat):  # interleaved, so drifting load on shared cores hits all alike
            for n, (label, fn) in enumerate(variants.items()):
                seconds, rows = timed(fn, scratch, f"v{n}", run)
                if rows != args.rows:
                    raise SystemExit(f"{label}: loaded {rows} rows, expected {args.rows}")
                times[label].append(seconds)
                print(f"run {run + 1}: {label}: {seconds:.2f}s", file=sys.stderr)

    median = {label: statistics.median(t) for label, t in times.items()}
    base = median["baseline: CREATE TABLE AS read_ndjson_objects"]
    print(f"## Warehouse load: DuckDB ({dt.date.today().isoformat()})\n")
    print(
        f"One day of option-chain snapshots: {args.rows:,} rows, {manifests} manifests (one per underlying), "
        f"{len(files)} gzip NDJSON parts, {size / 2**20:.1f} MiB compressed. "
        f"Median of {args.repeat} interleaved runs, each into a fresh database file (open to close). "
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}. Command: `.venv/bin/python bench/load.py "
        f"--rows {args.rows} --underlyings {args.underlyings} --rows-per-part {args.rows_per_part} "
        f"--repeat {args.repeat}`.\n"
    )
    print("| method | median s | best s | rows/s (median) | vs baseline |")
    print("|---|---:|---:|---:|---:|")
    for label, t in times.items():
        print(
            f"| {label} | {median[label]:.2f} | {min(t):.2f} | {args.rows / median[label]:,.0f} "
            f"| {base / median[label]:.2f} |"
        )
    default = f"loader, workers={DEFAULT_WORKERS} (default)"
    ratio = base / median[default]
    best_ratio = min(times["baseline: CREATE TABLE AS read_ndjson_objects"]) / min(times[default])
    verdict = "meets" if ratio >= 0.8 else "misses"
    print(
        f"\nLoader/baseline throughput with default settings: **{ratio:.2f}** on medians, {best_ratio:.2f} on "
        f"best runs ({verdict} the 0.8 target). The loader also checks every part's size and sha256 against "
        "its manifest, adds the lineage columns (`source_file`, `source_row` via `WITH ORDINALITY`), writes "
        "the ledger row and commits one transaction per manifest; its time includes the checkpoint on close."
    )


if __name__ == "__main__":
    main()
