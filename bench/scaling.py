"""Benchmark: a day costs what the day holds. One new day's transform on a year of history vs on a month.

Builds one lake of simulated history (the 20 default underlyings, chain snapshots replayed for every day so a
year is ~25 requests a day, and a small grouped-bars market), loads the last month of it into one warehouse
and the whole year into another, and builds both once (the bases, kept under ``--work`` for reruns). Then, in
one run, on copies of the bases: the same new day is landed and loaded into both, and timed are the month's
transform of it, the year's transform of it, and the year's transform with nothing new.

Targets (issue 17): year / month <= 1.3; nothing new <= 3 s.

    nice -n 10 .venv/bin/python bench/scaling.py [--work DIR] [--days 252] [--month 21]
        [--underlyings A,B,...]  # the same universe on both sides (default: the 20 default underlyings)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from workflows import calendar, logs, steps
from workflows.settings import DEFAULT_UNDERLYINGS, load_settings

#: The day the simulator's clock stands on: the new day. Pinned so every run measures the same market.
NEW_DAY = dt.date(2026, 11, 20)
#: Tickers in the grouped-bars market: the underlyings plus some, so a day's stock bars stay cheap to make.
MARKET_SIZE = 200


def resources_for(home: Path, lake: Path, tickers: tuple[str, ...], memory: str = "2GB") -> steps.Resources:
    settings = load_settings(
        home=home,
        lake_url=f"file://{lake}",
        underlyings=tickers,
        sim_now=NEW_DAY,
        sim_snapshot_history=True,
        sim_market_size=MARKET_SIZE,
        duckdb_memory_limit=memory,
        log_format="json",
        log_level="warning",
    )
    return steps.Resources.from_settings(settings)


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def ingest(resources: steps.Resources, days: list[dt.date], tickers: tuple[str, ...], lake: Path) -> None:
    """Each day's stocks and chains into the lake; a day an interrupted run finished is not fetched again."""
    for day in days:
        chains = lake / "raw/_manifests/option_snapshots" / f"dt={day}"
        if len(list(chains.rglob("*.json"))) >= len(tickers):
            continue
        steps.ingest_stocks(resources, day)
        steps.ingest_options(resources, day, underlyings=tickers, mode="snapshot")


def build_base(work: Path, name: str, days: list[dt.date], tickers: tuple[str, ...]) -> dict[str, float]:
    """Load ``days`` of the lake into a fresh warehouse and build it once: the base a measurement copies."""
    home = work / name
    resources = resources_for(home, work / "lake", tickers, "3GB")  # a first build of a long history
    _, load_s = timed(lambda: [steps.load(resources, day) for day in days])
    _, build_s = timed(lambda: steps.transform(resources))
    shutil.copy(resources.settings.duckdb.path, work / f"{name}.base.duckdb")
    return {"load": load_s, "build": build_s}


def rows(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("raw.polygon_option_snapshots", "intermediate.int_polygon__option_chain_daily")
        }


def measure(work: Path, name: str, new_day: dt.date, tickers: tuple[str, ...]) -> dict[str, Any]:
    """On a copy of the base: settle (a transform with whatever the base lacks), load the new day, time its
    transform, then time a transform with nothing new."""
    home = work / f"{name}.run"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    resources = resources_for(home, work / "lake", tickers)
    shutil.copy(work / f"{name}.base.duckdb", resources.settings.duckdb.path)
    resources.dbt.invoke("parse")  # import dbt and parse once, outside the timings
    steps.transform(resources)
    steps.load(resources, new_day)
    day, day_s = timed(lambda: steps.transform(resources))
    nothing, nothing_s = timed(lambda: steps.transform(resources))
    return {
        "day_s": day_s,
        "day_tests": day.tests,
        "day_models": day.models,
        "nothing_s": nothing_s,
        "nothing_models": nothing.models,
        "rows": rows(resources.settings.duckdb.path),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=None, help="keeps the lake and the bases between runs")
    parser.add_argument("--days", type=int, default=252, help="trading days of the long history")
    parser.add_argument("--month", type=int, default=21, help="trading days of the short history")
    parser.add_argument("--underlyings", default=",".join(DEFAULT_UNDERLYINGS))
    parser.add_argument("--new-day", type=dt.date.fromisoformat, default=NEW_DAY, help=f"default {NEW_DAY}")
    args = parser.parse_args()
    new_day: dt.date = args.new_day
    logs.configure("json", "warning")
    work = (args.work or Path(tempfile.mkdtemp(prefix="smelt-scaling-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tickers = tuple(args.underlyings.split(","))
    history = calendar.previous_trading_days(new_day, args.days + 1)[:-1]
    assert calendar.is_trading_day(new_day) and new_day <= NEW_DAY and history[-1] < new_day
    month = history[-args.month :]

    setup: dict[str, Any] = {}
    lake_resources = resources_for(work / "ingest", work / "lake", tickers)
    if not (work / "lake.done").exists():
        _, setup["ingest_s"] = timed(
            lambda: ingest(lake_resources, [*history, new_day], tickers, work / "lake")
        )
        (work / "lake.done").write_text(json.dumps(setup))
    for name, days in (("month", month), ("year", history)):
        if not (work / f"{name}.base.duckdb").exists():
            setup[name] = build_base(work, name, days, tickers)
            print(f"built the {name} base: {setup[name]}", flush=True)

    results = {name: measure(work, name, new_day, tickers) for name in ("month", "year")}
    month_r, year_r = results["month"], results["year"]
    ratio = year_r["day_s"] / month_r["day_s"]
    print(
        f"\n## Scaling: one new day on {len(history)} vs {len(month)} trading days ({len(tickers)} underlyings)\n"
    )
    print("| measure | month | year |\n|---|---|---|")
    print(f"| history | {month[0]} .. {month[-1]} ({len(month)} days) | {history[0]} .. {history[-1]} "
          f"({len(history)} days) |")  # fmt: skip
    for table in month_r["rows"]:
        print(
            f"| `{table}` rows after the new day | {month_r['rows'][table]:,} | {year_r['rows'][table]:,} |"
        )
    print(f"| transform of the new day {new_day} | {month_r['day_s']:.1f} s | {year_r['day_s']:.1f} s |")
    print(f"| nodes / tests in that build | {month_r['day_models']} / {month_r['day_tests']} | "
          f"{year_r['day_models']} / {year_r['day_tests']} |")  # fmt: skip
    print(f"| transform with nothing new | {month_r['nothing_s']:.1f} s | {year_r['nothing_s']:.1f} s |")
    print(f"\nratio year / month for the new day: **{ratio:.2f}** (target <= 1.3); nothing new on the year: "
          f"**{year_r['nothing_s']:.1f} s** (target <= 3 s)")  # fmt: skip
    if setup:
        print(f"\nsetup (not part of the measure): {json.dumps(setup)}")
    print(f"work kept at {work}")


if __name__ == "__main__":
    main()
