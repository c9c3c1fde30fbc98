"""Benchmark: the Snowflake loader against fakesnow, next to the DuckDB loader, for the same simulated day.

One trading day (stock bars for the whole simulated market, contracts and chain snapshots for N
underlyings) is ingested from the built-in simulator into a folder lake. Then, alternating, each path loads
the whole day into a fresh target and is timed end to end (connect, DDL, every manifest, close):

* ``duckdb``: ``DuckDBWarehouse`` (the embedded loader; the baseline of this run);
* ``snowflake, folder lake``: ``SnowflakeWarehouse`` on fakesnow's server, ``PUT`` to the internal stage,
  then one ``COPY`` per manifest;
* ``snowflake, external stage``: the same lake seen as remote (as an S3 lake is: parts are verified from a
  stream, nothing is PUT), one ``COPY`` per manifest from ``@RAW.LAKE``, whose URL is the lake folder
  (fakesnow cannot read S3).

fakesnow is an emulator (Snowflake SQL translated to DuckDB, in one local process): its figures say how much
the loader's own work and round trips cost, not how fast Snowflake is. Also counted: statements per
manifest, by kind. Prints a Markdown section for docs/benchmarks.md.

    .venv/bin/python bench/snowflake_load.py [--underlyings 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from structlog.testing import capture_logs  # noqa: E402

from tests.snowflake.conftest import fakesnow_server, prepare_database, write_key_pair  # noqa: E402
from workflows import steps  # noqa: E402
from workflows.lake import FolderStorage, Lake  # noqa: E402
from workflows.logs import configure  # noqa: E402
from workflows.settings import DEFAULT_UNDERLYINGS, load_settings  # noqa: E402
from workflows.warehouse import DuckDBWarehouse, load  # noqa: E402
from workflows.warehouse.snowflake import SnowflakeWarehouse  # noqa: E402

DAY = dt.date(2026, 11, 24)


class RemoteFolder(FolderStorage):
    """A folder the loader must treat as remote, as it treats S3: no local path, parts read as streams."""

    def local_path(self, key: str) -> Path | None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--underlyings", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure("console", "warning")
    tickers = DEFAULT_UNDERLYINGS[: args.underlyings]

    with tempfile.TemporaryDirectory(prefix="smelt-bench-sf-") as tmp_name:
        tmp = Path(tmp_name)
        settings = load_settings(
            home=tmp / "home", underlyings=tickers, log_format="console", log_level="warning"
        )
        steps.ingest_stocks(steps.Resources.from_settings(settings), DAY)
        steps.ingest_options(
            steps.Resources.from_settings(settings), DAY, underlyings=tickers, mode="snapshot"
        )
        folder = Lake.open(settings.lake)
        remote = Lake(RemoteFolder(Path(folder.storage.url.removeprefix("file://"))))
        manifests = folder.manifests(day=DAY)
        rows = sum(m.rows for m in manifests)
        parts = sum(len(m.parts) for m in manifests)
        key_path, _ = write_key_pair(tmp / "keys")

        seconds: dict[str, list[float]] = collections.defaultdict(list)
        statements: dict[str, list[list[str]]] = {}
        with fakesnow_server(tmp / "fakesnow.log") as server:
            for i in range(args.repeat):
                with DuckDBWarehouse(tmp / f"bench-{i}.duckdb") as wh:
                    started = time.perf_counter()
                    load(wh, folder, DAY).raise_for_failures()
                    seconds["duckdb"].append(time.perf_counter() - started)
                for label, lake in (("snowflake, folder lake (PUT + COPY)", folder),
                                    ("snowflake, external stage (COPY)", remote)):  # fmt: skip
                    database = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
                    prepare_database(server, key_path, database, "s3://smelt-lake/bench")
                    connect = server.connect_args(key_path, database=database, schema="RAW")
                    with SnowflakeWarehouse(connect) as wh:
                        with wh._cursor() as cur:
                            cur.execute(f"create or replace stage raw.lake url = '{folder.url}/raw/polygon/'")
                        started = time.perf_counter()
                        with capture_logs() as events:  # the loader logs each manifest's statements (debug)
                            load(wh, lake, DAY).raise_for_failures()
                        seconds[label].append(time.perf_counter() - started)
                        sent = [e["statements"] for e in events if e["event"] == "transaction statements"]
                        statements[label] = [v for v in sent if "COPY" in v]

    base = statistics.median(seconds["duckdb"])
    print(f"## Snowflake loader on fakesnow (emulator) vs DuckDB, one day ({DAY})\n")
    print(
        "Emulator figures: fakesnow runs Snowflake SQL on DuckDB in a local process; they show the loader's"
    )
    print("own work and round trips, not Snowflake's speed. Produced by")
    print(
        f"`.venv/bin/python bench/snowflake_load.py --underlyings {args.underlyings} --repeat {args.repeat}`"
    )
    print(f"on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}: "
          f"{len(manifests)} manifests, {parts} parts, {rows:,} rows; median of {args.repeat}.\n")  # fmt: skip
    print("| path | seconds | rows/s | time vs DuckDB |")
    print("|---|---:|---:|---:|")
    for label, values in seconds.items():
        median = statistics.median(values)
        print(f"| {label} | {median:.2f} | {rows / median:,.0f} | {median / base:.2f} |")
    print("\nStatements per manifest with parts (every one a round trip; PUT also uploads each part):\n")
    for label, per_manifest in statements.items():
        kinds = collections.Counter(tuple(s) for s in per_manifest)
        for sequence, count in kinds.most_common():
            print(f"* {label}: {' → '.join(sequence)} ({len(sequence)} statements, "
                  f"{sequence.count('COPY')} COPY) for {count} manifests")  # fmt: skip


if __name__ == "__main__":
    main()
