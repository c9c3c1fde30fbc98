"""Benchmark: loading a whole-market options flat file (about 1.4 M rows) into DuckDB, against DuckDB alone.

Writes one gzip CSV day in the vendor's layout (``ticker,volume,open,close,high,low,window_start,transactions``,
OCC tickers of about 5,000 roots) and lands it in a folder lake with its manifest, as the flat-file ingest does.
Then, alternating, each in a child process of its own (so its peak RSS is its own, read with ``os.wait4``):

* the loader: ``load(DuckDBWarehouse(fresh file, memory_limit=M), lake, day)``: the sha256 check, the header
  check, typed ``read_csv`` with explicit columns, whole-count checks, lineage, the ledger, one transaction;
* the baseline: ``CREATE TABLE t AS SELECT * FROM read_csv(file, explicit columns)`` into a fresh file with the
  same memory limit: DuckDB's reader with nothing else to do.

Prints a Markdown section for docs/benchmarks.md.

    .venv/bin/python bench/flatfile_load.py [--rows 1400000] [--repeat 3] [--memory-limit 768MB]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from workflows.lake import FolderStorage, Lake, Manifest, PartInfo, part_key
from workflows.warehouse.flatfiles import COLUMNS, FORMAT, HEADER

DAY = dt.date(2026, 1, 5)
RUN_ID = "20260106T160000Z-0bench01"
WINDOW_START = 1_767_589_200_000_000_000  # 00:00 New York of DAY


def write_day(path: Path, rows: int, seed: int = 17) -> int:
    """A day of option aggregates: about 5,000 roots, each with a few dozen to thousands of contracts."""
    rng = random.Random(seed)
    written = 0
    with gzip.open(path, "wt", compresslevel=6, newline="") as fh:
        fh.write(HEADER + "\n")
        root = 0
        while written < rows:
            name = f"{chr(65 + root % 26)}{chr(65 + root // 26 % 26)}{chr(65 + root // 676 % 26)}"
            contracts = min(rows - written, int(rng.paretovariate(1.2) * 40))
            for i in range(contracts):
                expiry = DAY + dt.timedelta(days=7 * (1 + i % 30))
                kind = "C" if i % 2 == 0 else "P"
                strike = 5_000 + 500 * (i // 60)
                close = round(max(0.01, rng.gauss(3, 2)), 2)
                fh.write(
                    f"O:{name}{expiry:%y%m%d}{kind}{strike * 1000:08d},{rng.randint(1, 5000)},{close},"
                    f"{round(close * 1.02, 2)},{round(close * 1.1, 2)},{round(close * 0.9, 2)},{WINDOW_START},"
                    f"{rng.randint(1, 400)}\n"
                )
            written += contracts
            root += 1
    return written


def land(lake: Lake, local: Path, rows: int) -> Manifest:
    body = local.read_bytes()
    key = part_key("option_day_aggs", DAY, None, RUN_ID, 0)
    lake.storage.put_file(local, key)
    stats = {"format": FORMAT, "origin": {"bucket": "flatfiles", "key": "us_options_opra/day_aggs_v1/bench.csv.gz",
                                          "etag": '"bench"', "last_modified": "2026-01-06T16:00:00Z",
                                          "size": len(body)}}  # fmt: skip
    part = PartInfo(key, rows, len(body), hashlib.sha256(body).hexdigest())
    manifest = Manifest(
        "option_day_aggs", DAY, None, RUN_ID, "simulator", "2026-01-06T16:00:00Z", (part,), stats
    )
    lake.storage.put_exclusive(manifest.key, manifest.to_json())
    return manifest


def child(kind: str, lake_root: str, db: str, csv: str, memory_limit: str) -> None:
    """One timed trial, in this (child) process; prints its seconds and rows as JSON."""
    started = time.perf_counter()
    if kind == "loader":
        from workflows.logs import configure
        from workflows.warehouse import DuckDBWarehouse, load

        configure(level="WARNING")
        with DuckDBWarehouse(db, memory_limit=memory_limit) as wh:
            report = load(wh, Lake(FolderStorage(Path(lake_root))), DAY)
        report.raise_for_failures()
        rows = report.rows
    else:
        con = duckdb.connect(db)
        con.execute(f"SET memory_limit = '{memory_limit}'")
        columns = {name: duck for name, duck, _ in COLUMNS}
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv($p, header = true, auto_detect = false, "
                    "columns = $c, compression = 'gzip')", {"p": csv, "c": columns})  # fmt: skip
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


def trial(kind: str, work: Path, n: int, lake_root: Path, csv: Path, memory_limit: str) -> dict[str, Any]:
    db = work / f"{kind}-{n}.duckdb"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(lake_root), str(db), str(csv), memory_limit],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} trial failed ({proc.returncode}): {out}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    db.unlink()
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:7])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_400_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-limit", default="768MB")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="smelt-bench-flatfile-") as tmp:
        work = Path(tmp)
        csv = work / "day.csv.gz"
        started = time.perf_counter()
        rows = write_day(csv, args.rows)
        generated = time.perf_counter() - started
        lake_root = work / "lake"
        land(Lake(FolderStorage(lake_root)), csv, rows)
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "loader": []}
        for n in range(args.repeat):
            for kind in runs:
                runs[kind].append(trial(kind, work, n, lake_root, csv, args.memory_limit))
                assert runs[kind][-1]["rows"] == rows
        size = csv.stat().st_size

    base = statistics.median(r["seconds"] for r in runs["baseline"])
    print("## Flat-file load (DuckDB): a whole-market options day (issue 17)\n")
    print(f"One options day-aggregates file: {rows:,} rows, {size / 2**20:.1f} MiB gzip CSV (generated in "
          f"{generated:.0f} s). Median of {args.repeat} interleaved runs, each in a fresh process and a fresh "
          f"database file, DuckDB memory_limit {args.memory_limit}; peak RSS is the process's own (wait4). "
          f"{os.cpu_count()} cores, CPython {platform.python_version()}, DuckDB {duckdb.__version__}. Command: "
          f"`nice .venv/bin/python bench/flatfile_load.py --rows {args.rows} --repeat {args.repeat} "
          f"--memory-limit {args.memory_limit}`.\n")  # fmt: skip
    print("| method | median s | best s | rows/s (median) | peak RSS MiB (max) | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, label in (("baseline", "baseline: CREATE TABLE AS read_csv (explicit columns)"),
                        ("loader", "loader: load(DuckDBWarehouse) of the manifest")):  # fmt: skip
        secs = [r["seconds"] for r in runs[kind]]
        med = statistics.median(secs)
        rss = max(r["rss_mib"] for r in runs[kind])
        print(f"| {label} | {med:.2f} | {min(secs):.2f} | {rows / med:,.0f} | {rss:.0f} | {base / med:.2f} |")


if __name__ == "__main__":
    main()
