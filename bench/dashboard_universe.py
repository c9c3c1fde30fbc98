"""The dashboard benchmark's warehouse: at least 10 million option snapshot rows from the simulator, built by
the real pipeline (`smelt run`: ingest, load, dbt, publish) at a cost two cores can afford.

Option rows grow with underlyings x days, and each trading day also lands the whole stock market's bars
(3,000 tickers) whatever the underlyings, so many underlyings over a few weeks reach 10 million rows far
cheaper than the 20 defaults over three years: the default 20 plus 400 simulated optionable names (about
560 contracts each a day) over 45 trading days gives 10,175,734 chain rows (docs/benchmarks.md), in three to
four hours on two shared cores.

    .venv/bin/python bench/dashboard_universe.py --home /tmp/smelt-bench-dash/home

It runs `smelt run` over chunks of days; each finished chunk leaves a published warehouse. Started again
after an interruption, it skips the chunks the published snapshot already covers (its `build.json`), and
the chunk that was cut short resumes past the units it landed (one run id per chunk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from workflows import calendar
from workflows.marts_contract import BUILD_FILE, SNAPSHOT_DIR, current_version
from workflows.settings import DEFAULT_UNDERLYINGS

SYNTHETIC = 400
DAYS = 45
END = dt.date(2026, 11, 27)
MEMORY = "6GB"  # the first build parses ~21 million raw JSON records; later incremental builds need far less


def universe(synthetic: int = SYNTHETIC, seed: int = 7) -> tuple[str, ...]:
    """The defaults plus the simulator's first ``synthetic`` optionable generated names (stable per seed)."""
    from workflows.simulator.market import Market
    from workflows.simulator.options import option_root

    market = Market(seed=seed)
    names = [t for t in market.tickers if t not in DEFAULT_UNDERLYINGS and option_root(t)]
    return (*DEFAULT_UNDERLYINGS, *names[:synthetic])


def published_through(home: Path) -> dt.date | None:
    """The last day of the option chain in the published snapshot: the build's progress, already on disk."""
    root = home / SNAPSHOT_DIR
    version = current_version(root)
    if version is None:
        return None
    chain = json.loads((root / version / BUILD_FILE).read_text())["marts"]["mart_option_chain"]
    return dt.date.fromisoformat(chain["last_date"]) if chain.get("last_date") else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--synthetic", type=int, default=SYNTHETIC)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--memory", default=MEMORY)
    parser.add_argument(
        "--chunk-days",
        type=int,
        default=15,
        help="days per `smelt run`: each chunk ends with a usable, published warehouse, so a build cut short "
        "still leaves the days done so far",
    )
    args = parser.parse_args()
    days = calendar.previous_trading_days(END, args.days)
    tickers = universe(args.synthetic)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "SNOWFLAKE_"))}
    env.update(SMELT_HOME=str(args.home), SMELT_DUCKDB_MEMORY_LIMIT=args.memory, SMELT_LOG_FORMAT="json",
               SMELT_LOG_LEVEL="warning")  # fmt: skip
    smelt = str(Path(sys.executable).with_name("smelt"))
    print(
        f"building {len(tickers)} underlyings x {len(days)} days ({days[0]} .. {days[-1]}) into {args.home}"
    )
    started = time.perf_counter()
    built = published_through(args.home)
    for first in range(0, len(days), args.chunk_days):
        chunk = days[first : first + args.chunk_days]
        name = f"{chunk[0]}..{chunk[-1]}"
        if built is not None and chunk[-1] <= built:
            print(f"{name} already published", flush=True)
            continue
        span = ["--start", str(chunk[0]), "--end", str(chunk[-1]), "--run-id", f"bench-{chunk[0]}"]
        command = [smelt, "run", *span]  # one run id per chunk: a chunk started again resumes
        subprocess.run([*command, "--underlyings", ",".join(tickers)], env=env, check=True)
        print(f"{name} done at {time.perf_counter() - started:.0f} s", flush=True)
    print(f"built in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
