"""Benchmark: `smelt ingest options` for the 20 default underlyings on the in-process simulator.

Reports records per second and peak RSS of the real command (a subprocess), requests per underlying-day
against the target ``ceil(contracts/250) + 1``, and, as the baseline run in the same script, the cost of
only serialising and gzip-writing the same records: the floor any ingest must pay.

    .venv/bin/python bench/ingest.py [--date YYYY-MM-DD] [--repeat 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from workflows import calendar, logs
from workflows.lake import Lake


def run_ingest(home: Path, day: dt.date) -> tuple[float, float]:
    env = {**os.environ, "SMELT_HOME": str(home), "SMELT_LOG_FORMAT": "json", "SMELT_LOG_LEVEL": "warning"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "workflows", "ingest", "options", "--date", day.isoformat()],
        env=env, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mib


def in_process(home: Path, day: dt.date) -> tuple[float, int]:
    """The step alone, in this process, after a warm-up day: no interpreter start, no model build."""
    from workflows import steps
    from workflows.settings import load_settings

    settings = load_settings(home=home, log_format="json", log_level="warning")
    steps.ingest_options(
        steps.Resources.from_settings(settings), calendar.previous_trading_days(day, 2)[0]
    )  # warm-up: builds the market
    started = time.perf_counter()
    report = steps.ingest_options(steps.Resources.from_settings(settings), day)
    return time.perf_counter() - started, report.rows


def baseline(lake: Lake, out: Path) -> tuple[int, float]:
    """Re-serialise and gzip every landed record: the work left if fetching and validation were free."""
    records = []
    for manifest in lake.manifests():
        for part in manifest.parts:
            with lake.verified_part(part) as path:
                records += [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    started = time.perf_counter()
    with gzip.open(out, "wb", compresslevel=6) as fh:
        for record in records:
            fh.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    return len(records), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", type=dt.date.fromisoformat, default=calendar.last_completed_trading_day())
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    logs.configure("json", "warning")
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            seconds, peak = run_ingest(home, args.date)
            lake = Lake.open((home / "lake").resolve().as_uri())
            snapshots = lake.manifests("option_snapshots", args.date)
            contracts = {m.underlying: m for m in lake.manifests("option_contracts", args.date)}
            rows = sum(m.rows for m in lake.manifests())
            off_target = [
                m.underlying
                for m in snapshots
                if m.stats["requests"] + contracts[m.underlying].stats["requests"]
                != math.ceil(m.rows / 250) + 1
            ]
            base_rows, base_seconds = baseline(lake, Path(tmp) / "baseline.ndjson.gz")
            assert base_rows == rows
            warm_seconds, warm_rows = in_process(Path(tmp) / "warm", args.date)
            assert warm_rows == rows
            runs.append((seconds, peak, rows, len(snapshots), off_target, base_seconds, warm_seconds))
    seconds, peak, rows, underlyings, off_target, base_seconds, warm_seconds = min(runs)
    print(f"## Ingest: `smelt ingest options --date {args.date}` ({underlyings} underlyings, simulator)\n")
    print("| measure | value |\n|---|---|")
    print(f"| records landed (contracts + snapshots) | {rows:,} |")
    print(f"| wall time (best of {args.repeat}, whole process incl. start-up) | {seconds:.2f} s |")
    print(f"| records per second, whole process | {rows / seconds:,.0f} |")
    print(
        f"| the step alone in a warm process | {warm_seconds:.2f} s, {rows / warm_seconds:,.0f} records/s |"
    )
    print(f"| peak RSS | {peak:,.0f} MiB |")
    print(
        f"| underlyings off the `ceil(contracts/250) + 1` request target | {len(off_target)} {off_target} |"
    )
    print(f"| baseline: serialise + gzip the same records only | {base_seconds:.2f} s |")
    print(f"| ratio warm step / baseline (time) | {warm_seconds / base_seconds:.1f}x |")


if __name__ == "__main__":
    main()
