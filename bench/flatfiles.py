"""Benchmark: one whole day of flat files, published by the simulator and landed by `smelt ingest flatfiles`.

For each universe (the 20 default underlyings; ``--underlyings N`` of the simulated market's tickers as the
largest this machine simulates while engineer A's whole-market universe is not on main) it reports the two
objects' rows and sizes, the seconds and peak RSS of publishing them (in this process, one underlying's
chain at a time) and of landing them (the real command, a subprocess, against moto's S3 in server mode).
The baseline in the same run is the REST backfill of the same day for two underlyings (one range request per
contract, the path flat files replace), as seconds per contract-day.

    .venv/bin/python bench/flatfiles.py [--day 2026-11-23] [--underlyings 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflows.flatfiles import FlatFilesClient, published_at
from workflows.lake import Lake
from workflows.settings import DEFAULT_UNDERLYINGS, FlatFilesSettings
from workflows.simulator import flatfiles as published
from workflows.simulator.app import models
from workflows.simulator.market import Market

KEYS = {"POLYGON_FLATFILES_ACCESS_KEY_ID": "bench", "POLYGON_FLATFILES_SECRET_ACCESS_KEY": "bench-no-secret"}


def moto(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("moto did not start")


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds, peak RSS (MiB) of ``smelt ARGS`` in a fresh process, and the seconds its units logged (the
    landing itself, without the interpreter's start and imports)."""
    started = time.perf_counter()
    # GNU time reports the child's own peak (a forked child's rusage counts the parent's pages too)
    argv = ["/usr/bin/time", "-f", "maxrss_kib=%M", sys.executable, "-m", "workflows", *args]
    done = subprocess.run(argv, env={**env, "SMELT_LOG_LEVEL": "info"}, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr.decode()[-2000:])
    lines = (done.stdout + done.stderr).splitlines()
    peak = next(int(line.split(b"=")[1]) for line in lines if line.startswith(b"maxrss_kib="))
    units = [orjson.loads(line) for line in lines if line.startswith(b"{") and b'"unit finished"' in line]
    return seconds, peak / 1024, sum(float(u["seconds"]) for u in units)


def backfill_compare(days: list[dt.date], underlyings: tuple[str, ...], sim_now: dt.date) -> None:
    """The run's backfill of the same past days both ways, in this process: REST (one range request per
    contract) against flat files (the embedded endpoint: publish, then land, plus contracts and dividends)."""
    from workflows import logs
    from workflows.settings import load_settings
    from workflows.steps import Resources, backfill_flatfiles, backfill_options

    logs.configure("json", "warning")

    for name, flag in (("REST backfill", False), ("flat-file backfill (embedded)", True)):
        with tempfile.TemporaryDirectory() as home:
            settings = load_settings(home=Path(home), sim_now=sim_now, sim_flatfiles=flag, underlyings=underlyings,
                                     log_level="warning", log_format="json")  # fmt: skip
            step = backfill_flatfiles if flag else backfill_options
            started = time.perf_counter()
            report = step(Resources.from_settings(settings), days[0], days[-1])
            print(f"{name}, {len(days)} days x {len(underlyings)} underlyings: {time.perf_counter() - started:.1f} s, "
                  f"{report.requests:,} requests, {report.rows:,} rows")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    parser.add_argument("--underlyings", type=int, default=1000)
    parser.add_argument(
        "--backfill-days", type=int, default=4, help="Past days of the REST-vs-flat-file backfill."
    )
    parser.add_argument("--backfill-underlyings", default="AAPL,MSFT,TSLA,SPY,QQQ")
    parser.add_argument("--only-backfill", action="store_true")
    args = parser.parse_args()
    day: dt.date = args.day
    sim_now = day + dt.timedelta(days=1 if day.weekday() < 4 else 3)
    from workflows import calendar

    if args.backfill_days:
        past = calendar.previous_trading_days(day, args.backfill_days)
        backfill_compare(past, tuple(args.backfill_underlyings.split(",")), sim_now)
    if args.only_backfill:
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        universes = {"20 default": DEFAULT_UNDERLYINGS,
                     f"{args.underlyings} of the market": Market(7, (), 3000).tickers[: args.underlyings]}  # fmt: skip
        for name, underlyings in universes.items():
            bucket = f"flatfiles-{len(underlyings)}"
            client = FlatFilesClient.from_settings(FlatFilesSettings.model_validate(
                {"endpoint_url": endpoint, "bucket": bucket, "access_key_id": KEYS["POLYGON_FLATFILES_ACCESS_KEY_ID"],
                 "secret_access_key": KEYS["POLYGON_FLATFILES_SECRET_ACCESS_KEY"]}))  # fmt: skip
            options = models(7, tuple(underlyings), 3000).options
            started = time.perf_counter()
            files, _ = published.publish(
                client, options, [day], ["stock_day_aggs", "option_day_aggs"], published_at(day)
            )
            publish_s = time.perf_counter() - started
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            with tempfile.TemporaryDirectory() as home:
                env = {**os.environ, **KEYS, "SMELT_HOME": home, "SMELT_SIM_NOW": str(sim_now),
                       "SMELT_LOG_LEVEL": "warning", "SMELT_LOG_FORMAT": "json",
                       "POLYGON_FLATFILES_ENDPOINT_URL": endpoint, "POLYGON_FLATFILES_BUCKET": bucket}  # fmt: skip
                land_s, land_rss, units_s = child(
                    ["ingest", "flatfiles", "--start", str(day), "--end", str(day)], env
                )
                lake = Lake.open(Path(home, "lake").resolve().as_uri())
                landed = {
                    m.dataset: m
                    for d in ("stock_day_aggs", "option_day_aggs")
                    for m in lake.manifests(d, day)
                }
            for f in files:
                assert landed[f.dataset].rows == f.rows and landed[f.dataset].bytes == f.bytes
            print(f"{name}: " + "; ".join(f"{f.dataset} {f.rows:,} rows {f.bytes / 2**20:.2f} MiB" for f in files)
                  + f"; publish {publish_s:.1f} s (RSS {rss:.0f} MiB); land both {land_s:.1f} s in a new process, "
                  f"{units_s:.2f} s of it landing (RSS {land_rss:.0f} MiB)")  # fmt: skip
            contract_days = next(f.rows for f in files if f.dataset == "option_day_aggs")
            print(f"  flat files: {(publish_s + land_s) / contract_days * 1e3:.3f} ms per contract-day published and "
                  f"landed, {units_s / contract_days * 1e3:.4f} ms landed")  # fmt: skip
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "SMELT_HOME": home, "SMELT_SIM_NOW": str(sim_now),
                   "SMELT_LOG_FORMAT": "json"}  # fmt: skip
            rest_s, _, _ = child(["ingest", "options-backfill", "--start", str(day), "--end", str(day),
                               "--underlyings", "AAPL,SPY"], env)  # fmt: skip
            lake = Lake.open(Path(home, "lake").resolve().as_uri())
            bars = sum(m.rows for m in lake.manifests("option_bars", day))
        print(f"baseline REST backfill AAPL,SPY: {bars:,} contract-days in {rest_s:.1f} s: "
              f"{rest_s / bars * 1e3:.3f} ms per contract-day")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
