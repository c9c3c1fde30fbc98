"""Benchmark: the dashboard over a large simulated warehouse (build it with bench/dashboard_universe.py).

Measures, over the published marts snapshot of ``--home``:
* server time of every chart callback (the page functions Dash calls, output serialised as Dash does):
  cold (a fresh source and caches: a new worker's first request after a publish), uncached (DuckDB warm,
  caches off), rebuilt (query cache hit, the figure built again) and warm (the same view again: the answer
  cache); p50 and p95 over sampled tickers and days;
* the largest callback payload (the JSON Dash would send);
* the snapshot choice: the chain query on the Parquet snapshot vs the same SQL on the DuckDB file itself
  (the baseline), and the publish time;
* time to first render of each page in Chromium, and the served dashboard's RSS.

    .venv/bin/python -m bench.dashboard_bench --home /tmp/smelt-bench-dash/home [--samples 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import plotly.utils

from dashboard.marts import SnapshotSource
from dashboard.pages import chain, market, positioning, quality, strategy, volatility
from dashboard.queries import Queries
from workflows.marts_contract import current_version, mart_files
from workflows.publish import publish, snapshot_root
from workflows.settings import load_settings


def payload(outputs: tuple[Any, ...]) -> int:
    return len(json.dumps(outputs, cls=plotly.utils.PlotlyJSONEncoder).encode())


def callbacks(q: Queries, ticker: str, day: dt.date) -> dict[str, Callable[[], tuple[Any, ...]]]:
    d = day.isoformat()
    expiries = q.expiries(ticker, day)
    near = str(expiries["expiration_date"].iloc[min(3, len(expiries) - 1)])[:10]
    contracts = q.contracts(ticker, day, dt.date.fromisoformat(near))
    calls = contracts[contracts["contract_type"] == "call"]
    spot = float(contracts["underlying_price"].iloc[0])
    legs = ",".join(
        f"{o}*{n}"
        for o, n in zip(
            calls.iloc[(calls["strike_price"] - spot).abs().argsort()[:2]]["option_ticker"],
            (1, -1),
            strict=True,
        )
    )
    picks = [str(e)[:10] for e in expiries["expiration_date"].iloc[[1, min(4, len(expiries) - 1)]]]
    return {
        "market": lambda: market.market_chart(q, ticker, d, "6m", "adjusted", ["sma20", "sma50", "bollinger", "move"], "light"),
        "chain": lambda: chain.chain_table(q, ticker, d, near, "all", "light"),
        "smile": lambda: volatility.smile_chart(q, ticker, d, picks, "light"),
        "term": lambda: volatility.term_chart(q, ticker, d, "light"),
        "surface": lambda: volatility.surface_chart(q, ticker, d, "heatmap", "light"),
        "realized_vs_implied": lambda: volatility.rv_chart(q, ticker, d, "1y", "light"),
        "positioning_strikes": lambda: positioning.strike_charts(q, ticker, d, "all", "oi", "30", "light"),
        "positioning_history": lambda: positioning.history_charts(q, ticker, d, "6m", "light"),
        "strategy_contracts": lambda: strategy.pick_grid(q, ticker, d, near, "light"),
        "strategy_position": lambda: strategy.position(q, ticker, d, legs, 4.0, "light"),
        "quality": lambda: quality.quality_view(q, "light"),
    }  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return (time.perf_counter() - started) * 1000, out


def served(fn: Callable[[], tuple[Any, ...]]) -> tuple[float, tuple[Any, ...]]:
    """A callback's server time: the call and the JSON of its output, which Dash makes for every response."""
    return timed(lambda: (out := fn(), payload(out))[0])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def server_times(root: Path, samples: int, seed: int) -> dict[str, dict[str, float]]:
    probe = Queries.over(SnapshotSource(root))
    tickers = probe.underlyings()
    rng = random.Random(seed)
    picks = [
        (t, rng.choice(probe.option_days(t)[:20])) for t in rng.sample(tickers, min(samples, len(tickers)))
    ]
    cold: dict[str, list[float]] = {}
    uncached: dict[str, list[float]] = {}
    rebuilt: dict[str, list[float]] = {}
    warm: dict[str, list[float]] = {}
    largest: dict[str, int] = {}
    shared_uncached = Queries.over(SnapshotSource(root), entries=0)
    shared_rebuilt = Queries.over(SnapshotSource(root), answers=0)
    shared_warm = Queries.over(SnapshotSource(root))
    for ticker, day in picks:
        fresh = Queries.over(SnapshotSource(root))  # a new worker: new DuckDB, empty cache
        for name, fn in callbacks(fresh, ticker, day).items():
            ms, out = served(fn)
            cold.setdefault(name, []).append(ms)
            largest[name] = max(largest.get(name, 0), payload(out))
        for name, fn in callbacks(shared_uncached, ticker, day).items():
            uncached.setdefault(name, []).append(served(fn)[0])
        for name, fn in callbacks(shared_rebuilt, ticker, day).items():
            fn()
            rebuilt.setdefault(name, []).append(served(fn)[0])
        for name, fn in callbacks(shared_warm, ticker, day).items():
            fn()
            warm.setdefault(name, []).append(served(fn)[0])
    return {
        name: {
            "cold_p50": statistics.median(cold[name]), "cold_p95": pct(cold[name], 0.95),
            "uncached_p50": statistics.median(uncached[name]), "uncached_p95": pct(uncached[name], 0.95),
            "rebuilt_p50": statistics.median(rebuilt[name]), "rebuilt_p95": pct(rebuilt[name], 0.95),
            "warm_p50": statistics.median(warm[name]), "warm_p95": pct(warm[name], 0.95),
            "largest_bytes": largest[name],
        }
        for name in cold
    }  # fmt: skip


def snapshot_vs_file(home: Path, root: Path, repeat: int = 15) -> dict[str, float]:
    """The chain query on the snapshot vs the same SQL on the warehouse file (read-only) as the baseline."""
    settings = load_settings(home=home)
    q = Queries.over(SnapshotSource(root), entries=0)
    tickers = q.underlyings()
    rng = random.Random(1)
    cases = []
    for ticker in rng.sample(tickers, min(repeat, len(tickers))):
        day = q.option_days(ticker)[0]
        cases.append((ticker, day, q.expiries(ticker, day)["expiration_date"].iloc[3]))
    snapshot_ms = [timed(lambda c=c: q.chain(c[0], c[1], c[2], None))[0] for c in cases]  # type: ignore[misc]
    con = duckdb.connect(str(settings.duckdb.path), read_only=True)
    sql = "SELECT * FROM marts.mart_option_chain WHERE underlying = ? AND trade_date = ? AND expiration_date = ?"
    snap_sql = sql.replace("marts.mart_option_chain", "mart_option_chain")
    handle = q.source.handle()
    raw_snapshot = [
        timed(lambda c=c: handle.connection.cursor().execute(snap_sql, list(c)).fetchall())[0] for c in cases
    ]  # type: ignore[misc]
    raw_file = [timed(lambda c=c: con.execute(sql, list(c)).fetchall())[0] for c in cases]  # type: ignore[misc]
    con.close()
    return {
        "chain_query_on_snapshot_p50_ms": statistics.median(snapshot_ms),
        "select_on_snapshot_p50_ms": statistics.median(raw_snapshot),
        "select_on_duckdb_file_p50_ms": statistics.median(raw_file),
    }


def browser_times(home: Path) -> dict[str, Any]:
    import psutil

    from bench.dashboard_support import chromium, serve, wait_for_charts
    from dashboard.pages import PAGES

    out: dict[str, Any] = {"first_render_s": {}}
    with serve(home) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base + "/healthz")
        for module in PAGES:
            for attempt in ("cold", "warm"):
                started = time.perf_counter()
                page.goto(base + module.PATH)
                wait_for_charts(page, timeout=120_000)
                out["first_render_s"].setdefault(module.PREFIX, {})[attempt] = round(
                    time.perf_counter() - started, 2
                )
        port = int(base.rsplit(":", 1)[1])
        listeners = [
            c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid
        ]
        master = psutil.Process(listeners[0])  # a gunicorn process; its master is `smelt dashboard`
        while master.parent().cmdline()[2:3] == ["dashboard"]:  # .../python .../smelt dashboard ...
            master = master.parent()
        tree = [master, *master.children(recursive=True)]
        out["rss_mib"] = {p.pid: round(p.memory_info().rss / 2**20, 1) for p in tree}
        out["rss_total_mib"] = round(sum(out["rss_mib"].values()), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only-browser", action="store_true")
    args = parser.parse_args()
    if args.only_browser:
        print(json.dumps({"browser": browser_times(args.home)}, indent=1))
        return
    settings = load_settings(home=args.home)
    root = snapshot_root(settings)
    con = duckdb.connect()
    version = current_version(root)
    files = [str(path) for path in mart_files(root, str(version))["mart_option_chain"]]
    rows = con.execute(f"SELECT count(*) FROM read_parquet({files!r}, hive_partitioning = false)").fetchone()[
        0
    ]
    started = time.perf_counter()
    report = publish(settings, full=True)  # every partition again: the cost of a full publish at this size
    result: dict[str, Any] = {
        "option_chain_rows": rows,
        "publish_seconds": round(time.perf_counter() - started, 1),
        "snapshot_bytes": report.bytes,
        "callbacks": server_times(root, args.samples, args.seed),
        "snapshot_vs_file": snapshot_vs_file(args.home, root),
    }
    if not args.skip_browser:
        result["browser"] = browser_times(args.home)
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
