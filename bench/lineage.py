"""Benchmark: what lineage costs, on a built ``SMELT_HOME`` (``smelt run``'s, with a published snapshot).

* Size: the bytes of ``mart_option_provenance`` in the current snapshot version against the whole snapshot
  (every mart's partition files the version's manifest names), and its rows.
* Build: the dbt time of ``int_options__provenance`` (and of its mart view) in the last build, against the whole
  build's model time (``dbt/target/run_results.json``).
* ``smelt trace``: the library call (``workflows.trace.trace``) for ``--samples`` contracts on the newest day and
  on the oldest, and for stock bars, in one open warehouse (median and p95); and the whole command, a new
  process each (``--repeat`` times; median), its import and connection included.

Prints a Markdown section for docs/benchmarks.md.

    .venv/bin/python -m bench.lineage --home H [--samples 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from workflows.lake import Lake
from workflows.marts_contract import current_version, mart_files
from workflows.publish import snapshot_root
from workflows.settings import load_settings
from workflows.trace import trace
from workflows.warehouse.duckdb import DuckDBWarehouse

MART = "mart_option_provenance"


def sizes(home: Path) -> dict[str, tuple[int, int]]:
    """Bytes and files of each mart in the current snapshot version."""
    root = snapshot_root(load_settings(home=home))
    version = current_version(root)
    assert version, f"no published snapshot under {root}"
    return {
        name: (sum(p.stat().st_size for p in files), len(files))
        for name, files in mart_files(root, version).items()
    }


def build_seconds(home: Path) -> tuple[float, float, float]:
    """Seconds of the provenance model, of its mart, and of every model in the last dbt build."""
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())["results"]
    models = {
        r["unique_id"]: float(r["execution_time"]) for r in results if r["unique_id"].startswith("model.")
    }
    own = models.get("model.smelt.int_options__provenance", float("nan"))
    mart = models.get(f"model.smelt.{MART}", float("nan"))
    return own, mart, sum(models.values())


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def trace_times(home: Path, samples: int) -> dict[str, tuple[float, float, int]]:
    settings = load_settings(home=home)
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    out = {}
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        [(first, last)] = con.execute(
            "select min(trade_date), max(trade_date) from marts.mart_option_chain"
        ).fetchall()
        cases = {
            f"contract, newest day ({last})": [
                (t, last) for (t,) in con.execute(
                    "select option_ticker from marts.mart_option_chain where trade_date = ? "
                    "order by hash(option_ticker) limit ?", [last, samples]).fetchall()],
            f"contract, oldest day ({first})": [
                (t, first) for (t,) in con.execute(
                    "select option_ticker from marts.mart_option_chain where trade_date = ? "
                    "order by hash(option_ticker) limit ?", [first, samples]).fetchall()],
            "stock bar": [
                (t, d) for t, d in con.execute(
                    "select ticker, trade_date from marts.mart_stock_daily order by hash(ticker, trade_date) limit ?",
                    [samples]).fetchall()],
        }  # fmt: skip
        warehouse = DuckDBWarehouse(settings.duckdb.path, connection=con)
        for label, keys in cases.items():
            seconds = []
            for key, day in keys:
                started = time.perf_counter()
                trace(warehouse, lake, key, day)
                seconds.append(time.perf_counter() - started)
            p50, p95 = _quantiles(seconds)
            out[label] = (p50, p95, len(seconds))
    return out


def command_seconds(home: Path, repeat: int) -> tuple[float, float, str]:
    """Median wall time of ``smelt trace`` and, alternately, of ``smelt --help`` (the process's own start)."""
    with duckdb.connect(str(load_settings(home=home).duckdb.path), read_only=True) as con:
        [(ticker, day)] = con.execute(
            "select option_ticker, trade_date from marts.mart_option_chain order by trade_date desc, option_ticker "
            "limit 1"
        ).fetchall()
    smelt = str(Path(sys.executable).with_name("smelt"))
    env = {**os.environ, "SMELT_HOME": str(home)}
    seconds: dict[str, list[float]] = {"trace": [], "help": []}
    for _ in range(repeat):
        for name, argv in (("trace", ["trace", ticker, "--date", str(day)]), ("help", ["--help"])):
            started = time.perf_counter()
            subprocess.run([smelt, *argv], env=env, check=True, capture_output=True)
            seconds[name].append(time.perf_counter() - started)
    trace_s, help_s = (statistics.median(seconds[k]) for k in ("trace", "help"))
    return trace_s, help_s, f"smelt trace {ticker} --date {day}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = args.home.resolve()
    marts = sizes(home)
    total = sum(b for b, _ in marts.values())
    own_bytes, own_files = marts[MART]
    with duckdb.connect(str(load_settings(home=home).duckdb.path), read_only=True) as con:
        [(rows,)] = con.execute(f"select count(*) from marts.{MART}").fetchall()
    model, view, models = build_seconds(home)
    lines: list[Any] = [
        "| measure | value |", "|---|---|",
        f"| {MART} in the snapshot | {own_bytes:,} bytes in {own_files} day files, {rows:,} rows "
        f"({own_bytes / max(rows, 1):.0f} bytes a row) |",
        f"| the whole snapshot (8 marts) | {total:,} bytes |",
        f"| provenance share of the snapshot | **{own_bytes / total:.1%}** |",
        f"| int_options__provenance in the last build | {model:.2f} s of {models:.1f} s of model time "
        f"({model / models:.1%}); the mart view {view:.2f} s |",
    ]  # fmt: skip
    for label, (p50, p95, n) in trace_times(home, args.samples).items():
        lines.append(f"| trace() of a {label}, {n} keys | p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms |")
    median, baseline, command = command_seconds(home, args.repeat)
    lines.append(f"| `{command}` (a new process; median of {args.repeat}) | {median:.2f} s; `smelt --help` "
                 f"{baseline:.2f} s in the same run: **{median / baseline:.1f}x** |")  # fmt: skip
    lines.append(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
