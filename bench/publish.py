"""Benchmark: what a publish costs against the days it changed, on one warehouse, in one run.

A real warehouse (``smelt run`` over two underlyings and five weeks, built here or given with ``--home``) is
copied and its marts are made large: each mart view becomes a table holding the view's rows repeated for
``--copies`` renamed underlyings (tickers) and ``--periods`` shifted date ranges, so the snapshot has months
of history and many underlyings while every row is a real mart row. Then, on that copy, it times

* the baseline: a full publish (``publish(full=True)``: every partition written);
* the one-file layout publish used before partitions (one sorted ``COPY`` per mart): the same rows, for
  comparison;
* incremental publishes after 1, 5 and 20 changed days (ledger rows for the newest days, as a load writes).

Each case runs ``--repeat`` times alternately; the median is reported, with the ratio to the full publish.
With ``--dashboard N`` it then times the dashboard's callbacks (``bench.dashboard_bench.server_times``, N
sampled underlyings) over the same marts in both layouts: a one-file-per-mart version and the partitioned
one, switched by ``CURRENT`` in the same snapshot folder. Prints a Markdown section for docs/benchmarks.md.

    .venv/bin/python -m bench.publish [--home H] [--copies 10] [--periods 8] [--repeat 3] [--dashboard 12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb

from workflows.logs import configure
from workflows.marts_contract import BUILD_FILE, CURRENT, PUBLISHED_MARTS, current_version
from workflows.publish import publish, snapshot_root
from workflows.settings import Settings, load_settings

START, END = dt.date(2026, 10, 23), dt.date(2026, 11, 27)
UNDERLYINGS = ("AAPL", "SPY")
CHANGED = (1, 5, 20)


def build(home: Path) -> Settings:
    """Two underlyings over five weeks, through the real pipeline (ingest, load, transform, publish)."""
    from workflows import steps

    settings = load_settings(home=home, underlyings=UNDERLYINGS, log_format="json", sim_now=END)
    steps.run(steps.Resources.from_settings(settings), start=START, end=END, underlyings=UNDERLYINGS)
    return settings


def scale(settings: Settings, copies: int, periods: int) -> dict[str, int]:
    """Replace each mart view by a table of its rows for ``copies`` renamed tickers and ``periods`` date ranges
    shifted back by whole weeks (the history before the built days), and add ledger rows for those days."""
    rows = {}
    with duckdb.connect(str(settings.duckdb.path)) as con:
        [(first, last)] = con.execute(
            "SELECT min(trade_date), max(trade_date) FROM marts.mart_stock_daily"
        ).fetchall()
        weeks = ((last - first).days // 7) + 1
        for spec in PUBLISHED_MARTS:
            columns = [r[0] for r in con.execute(f"DESCRIBE marts.{spec.name}").fetchall()]
            renamed = []
            for column in columns:
                if column in ("underlying", "ticker"):
                    renamed.append(
                        f"CASE WHEN c = 0 THEN {column} ELSE {column} || c::varchar END AS {column}"
                    )
                elif column == "option_ticker":
                    renamed.append(f"CASE WHEN c = 0 THEN {column} ELSE replace({column}, underlying, "
                                   f"underlying || c::varchar) END AS {column}")  # fmt: skip
                elif column == "trade_date":
                    renamed.append(f"trade_date - CAST(p * {weeks * 7} AS INTEGER) AS trade_date")
                else:
                    renamed.append(column)
            source = f"marts.{spec.name}"
            # the stock mart holds thousands of tickers: only the optionable ones get copies
            keep = "c = 0 OR ticker IN (SELECT DISTINCT underlying FROM marts.mart_option_chain)"
            where = keep if spec.name == "mart_stock_daily" else "true"
            con.execute(
                f"CREATE TABLE marts.{spec.name}_scaled AS SELECT {', '.join(renamed)} FROM {source}, "
                f"range({copies}) AS c(c), range({periods}) AS p(p) WHERE {where}"
            )
            con.execute(f"DROP VIEW {source}")
            con.execute(f"ALTER TABLE marts.{spec.name}_scaled RENAME TO {spec.name}")
            [(n,)] = con.execute(f"SELECT count(*) FROM {source}").fetchall()
            rows[spec.name] = n
        con.execute(
            "INSERT INTO raw.smelt_loads SELECT 'bench/' || l.manifest_key || '/' || p::varchar, l.dataset, "
            f"l.trade_date - CAST(p * {weeks * 7} AS INTEGER), l.files, l.rows, l.sha256, l.loaded_at "
            "FROM raw.smelt_loads AS l, range(1, ?) AS p(p)",
            [periods],
        )
    return rows


def newest_days(settings: Settings, n: int) -> list[dt.date]:
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT trade_date FROM marts.mart_option_chain ORDER BY trade_date DESC LIMIT ?", [n]
        ).fetchall()
    return [day for (day,) in rows]


def touch(settings: Settings, days: list[dt.date]) -> None:
    """A load of ``days``: one ledger row each, as the loader writes after a manifest."""
    with duckdb.connect(str(settings.duckdb.path)) as con:
        for day in days:
            con.execute(
                "INSERT INTO raw.smelt_loads VALUES (?, 'option_snapshots', ?, 1, 1, 'bench', now())",
                [f"bench/{uuid.uuid4()}", day],
            )


def dashboard_layouts(settings: Settings, samples: int) -> dict[str, dict[str, dict[str, float]]]:
    """The dashboard's callback times over the one-file version and the partitioned one of the same marts."""
    from bench.dashboard_bench import server_times

    root = snapshot_root(settings)
    partitioned = str(current_version(root))
    legacy = "00000000T000000000000Z-onefile"  # sorts first: pruning would never take it for the newest
    one_file_layout(settings, root / legacy)
    shutil.copy(root / partitioned / BUILD_FILE, root / legacy / BUILD_FILE)
    times = {}
    for name, version in (("one file per mart", legacy), ("partitioned", partitioned)):
        (root / CURRENT).write_text(version + "\n")
        times[name] = server_times(root, samples, seed=3)
    return times


def one_file_layout(settings: Settings, folder: Path) -> float:
    """The publish before partitions: one sorted COPY per mart into one file each."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        for spec in PUBLISHED_MARTS:
            con.execute(
                f"COPY (SELECT * FROM marts.{spec.name} ORDER BY {', '.join(spec.order_by)}) TO "
                f"'{folder / spec.name}.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 50000)"
            )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a built SMELT_HOME to copy (default: build one)")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--periods", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dashboard", type=int, default=0, help="sampled underlyings for the dashboard timing"
    )
    args = parser.parse_args()
    configure(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="smelt-bench-publish-") as tmp:
        home = Path(tmp) / "home"
        if args.home:
            shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("marts-snapshot"))
            settings = load_settings(home=home, underlyings=UNDERLYINGS, log_format="json", sim_now=END)
        else:
            settings = build(home)
            shutil.rmtree(snapshot_root(settings))
        (home / "dbt" / "target" / "run_results.json").unlink(missing_ok=True)  # no build start to bound by
        rows = scale(settings, args.copies, args.periods)
        times: dict[str, list[float]] = {
            "full": [],
            "one file per mart": [],
            **{f"{n} days": [] for n in CHANGED},
        }
        written: dict[str, int] = {}
        for _ in range(args.repeat):
            report = publish(settings, full=True)
            times["full"].append(report.seconds)
            written["full"] = report.written
            times["one file per mart"].append(one_file_layout(settings, Path(tmp) / "one-file"))
            for n in CHANGED:
                touch(settings, newest_days(settings, n))
                report = publish(settings)
                assert len(report.days) == n, report.days
                times[f"{n} days"].append(report.seconds)
                written[f"{n} days"] = report.written
        print(report_markdown(rows, times, written, args))
        if args.dashboard:
            print(dashboard_markdown(dashboard_layouts(settings, args.dashboard)))


def report_markdown(
    rows: dict[str, int], times: dict[str, list[float]], written: dict[str, int], args: Any
) -> str:
    full = statistics.median(times["full"])
    lines = [
        f"Snapshot: {sum(rows.values()):,} rows ({rows['mart_option_chain']:,} option chain rows; "
        f"--copies {args.copies} --periods {args.periods}); median of {args.repeat}; "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| publish | seconds (median) | ratio to full | partition files written |",
        "|---|---|---|---|",
    ]
    for name, samples in times.items():
        median = statistics.median(samples)
        lines.append(f"| {name} | {median:.2f} | {median / full:.3f} | {written.get(name, '-')} |")
    return "\n".join(lines)


def dashboard_markdown(times: dict[str, dict[str, dict[str, float]]]) -> str:
    layouts = list(times)
    head = " | ".join(f"{layout}: cold p50 / p95 | uncached p50 / p95" for layout in layouts)
    lines = [
        "",
        f"Dashboard callbacks, milliseconds (same marts, same samples): {head}",
        "",
        f"| callback | {head} |",
        "|---|" + "---|" * (2 * len(layouts)),
    ]
    for name in times[layouts[0]]:
        cells = []
        for layout in layouts:
            t = times[layout][name]
            cells += [
                f"{t['cold_p50']:.0f} / {t['cold_p95']:.0f}",
                f"{t['uncached_p50']:.0f} / {t['uncached_p95']:.0f}",
            ]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
