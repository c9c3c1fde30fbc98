"""Run reports at scale: storing one (lake + the DuckDB snapshot copy), and reading the Runs page's newest 30
out of a store of N reports (uncached: the source reuses a list for 5 s). Ratios against listing alone.

    nice -n 10 .venv/bin/python -m bench.run_reports --runs 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from dashboard.marts import SnapshotSource
from dashboard.pages import runs
from dashboard.queries import Queries
from workflows import run_reports
from workflows.lake.storage import FolderStorage
from workflows.marts_contract import RUNS_DIR, snapshot_folder
from workflows.settings import load_settings


def _ms(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="smelt-bench-runs-")) / "home"
    settings = load_settings(home=home)
    first = dt.datetime(2023, 1, 2, 23, 30, tzinfo=dt.UTC)
    stores = []
    for i in range(args.runs):
        started = time.perf_counter()
        run_reports.store(settings, run_reports.run_report(
            run_id=f"smelt-daily-{i:05d}", kind="daily", status="Succeeded", source="simulator",
            started_at=first + dt.timedelta(days=i), finished_at=first + dt.timedelta(days=i, minutes=20),
            days=[dt.date(2023, 1, 3)], rows_by_dataset={"stock_bars": 12_000, "option_snapshots": 9_000},
        ))  # fmt: skip
        stores.append(time.perf_counter() - started)
    storage = FolderStorage(snapshot_folder(home))
    listing, newest, page = [], [], []
    for _ in range(args.samples):
        started = time.perf_counter()
        storage.list_keys(RUNS_DIR)
        listing.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_reports.recent(storage, RUNS_DIR)
        newest.append(time.perf_counter() - started)
        started = time.perf_counter()
        runs.layout(Queries.over(SnapshotSource(snapshot_folder(home))), {})
        page.append(time.perf_counter() - started)
    print(f"reports in the store: {args.runs}")
    print(f"store one report (lake + snapshot copy): {_ms(stores)}")
    print(f"list the keys: {_ms(listing)}")
    print(
        f"read the newest 30: {_ms(newest)} ({statistics.median(newest) / statistics.median(listing):.2f}x listing)"
    )
    print(
        f"draw the Runs page: {_ms(page)} ({statistics.median(page) / statistics.median(listing):.2f}x listing)"
    )


if __name__ == "__main__":
    main()
