"""Benchmark: one whole-market trading day, run the way production runs it (issue 17 §4).

The vendor side is served, as Polygon would serve it: the simulator's whole-market universe over HTTP
(``smelt sim serve`` with ``SMELT_SIM_UNIVERSE=market``) and its flat files in a local S3 API server (moto,
server mode). The pipeline side is one process per step, as Argo runs them: the day's flat files (bars of
every stock and contract), the stocks' REST extras (splits, the Treasury curve), the chain snapshot of every
optionable underlying (paginated, the client's concurrency), load, the daily transform (computed IV and
Greeks for every contract), publish. Each phase's wall time, CPU time and peak RSS (``wait4``) are reported
with the step's own closing log line (rows, requests, manifests); the simulator's peak RSS and CPU
separately (it is the vendor, not the pipeline). Then a projection of a year's backfill through the Argo
fan-out.

    .venv/bin/python bench/whole_market.py [--date YYYY-MM-DD] [--memory-limit 3GB] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMELT = BIN / "smelt"
#: The benchmark's trading day. Production reads D's chain snapshot at D's close and D's flat files from 11:00
#: New York the next day; the benchmark folds the two together: the files are published at the next session's
#: clock, then the pipeline runs at D's close, so one run holds the day's bars and its snapshot.
DEFAULT_DAY = dt.date(2026, 11, 20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds:.0f} s: {exc}") from None
            time.sleep(0.3)


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM), while it is still alive."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a live process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


@dataclass
class Phase:
    name: str
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    fields: dict[str, Any] = field(default_factory=dict)


def run_phase(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Phase:
    """One step as its own process; wall time, its peak RSS (``wait4``) and its closing log line."""
    log = log_dir / f"{name.replace(' ', '-')}.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen([str(SMELT), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{name} failed (exit {code}); its log: {log}\n{log.read_text()[-4000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Phase(
        name, round(seconds, 1), round(cpu, 1), round(usage.ru_maxrss / 1024, 1), closing_fields(log)
    )


def closing_fields(log: Path) -> dict[str, Any]:
    """The fields of the step's last ``… done`` JSON log line (rows, requests, manifests as it reports them)."""
    found: dict[str, Any] = {}
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and str(record.get("event", "")).endswith(" done"):
                found = {
                    k: v for k, v in record.items() if k not in {"event", "level", "timestamp", "logger"}
                }
    return found


@contextlib.contextmanager
def served(args: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_http(url)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEFAULT_DAY)
    parser.add_argument("--memory-limit", default="3GB", help="SMELT_DUCKDB_MEMORY_LIMIT of every step")
    parser.add_argument("--universe", default="market", help="SMELT_SIM_UNIVERSE (default: the whole market)")
    parser.add_argument(
        "--underlyings", default="*", help="SMELT_UNDERLYINGS (default: every optionable name)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    day: dt.date = args.date

    work = Path(tempfile.mkdtemp(prefix="smelt-bench-market-"))
    logs = work / "logs"
    logs.mkdir()
    sim_port, s3_port = free_port(), free_port()
    from workflows import calendar

    next_session = calendar.trading_days(day + dt.timedelta(days=1), day + dt.timedelta(days=10))[0]
    env = {
        **os.environ,
        "SMELT_HOME": str(work / "home"),
        "SMELT_LOG_FORMAT": "json",
        "SMELT_SIM_URL": f"http://127.0.0.1:{sim_port}",
        "SMELT_SIM_NOW": day.isoformat(),
        "SMELT_SIM_UNIVERSE": args.universe,
        "SMELT_UNDERLYINGS": args.underlyings,
        "SMELT_DUCKDB_MEMORY_LIMIT": args.memory_limit,
        "POLYGON_FLATFILES_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "POLYGON_FLATFILES_BUCKET": "flatfiles",
        "POLYGON_FLATFILES_ACCESS_KEY_ID": "bench-flatfiles",
        "POLYGON_FLATFILES_SECRET_ACCESS_KEY": "bench-flatfiles-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    vendor_env = {k: v for k, v in env.items() if k != "SMELT_SIM_URL"} | {
        "SMELT_SIM_NOW": next_session.isoformat()
    }
    d = day.isoformat()
    report: dict[str, Any] = {"day": d, "universe": args.universe, "memory_limit": args.memory_limit}
    moto = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)]
    sim = [str(SMELT), "sim", "serve", "--port", str(sim_port)]
    try:
        with (
            served(moto, vendor_env, f"http://127.0.0.1:{s3_port}/moto-api/", logs / "moto.log"),
            served(sim, vendor_env, f"http://127.0.0.1:{sim_port}/_sim/stats", logs / "sim.log") as simulator,
        ):
            vendor = run_phase("vendor publishes flat files", ["sim", "publish-flatfiles", "--start", d, "--end", d],
                               vendor_env, logs)  # fmt: skip
            flat = ["--dataset", "stock_day_aggs", "--dataset", "option_day_aggs"]
            phases = [
                run_phase("ingest flat files", ["ingest", "flatfiles", "--start", d, "--end", d], env, logs),
                run_phase("load flat files", ["load", "--date", d, *flat], env, logs),
                run_phase("ingest stocks", ["ingest", "stocks", "--date", d], env, logs),
                run_phase("ingest options", ["ingest", "options", "--date", d], env, logs),
                run_phase("load", ["load", "--date", d], env, logs),
                run_phase("transform", ["transform"], env, logs),
                run_phase("publish", ["publish"], env, logs),
            ]
            report["simulator_peak_rss_mib"] = round(peak_rss_mib(simulator.pid), 1)
            report["simulator_cpu_seconds"] = cpu_seconds(simulator.pid)
        report["vendor"] = asdict(vendor)
        report["phases"] = [asdict(p) for p in phases]
        report["total_seconds"] = round(sum(p.seconds for p in phases), 1)
        report["peak_rss_mib"] = max(p.peak_rss_mib for p in phases)
        report["lake_bytes"] = sum(f.stat().st_size for f in (work / "home").rglob("*") if f.is_file())
        report["projection"] = projection(phases)
    finally:
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
        print(json.dumps(report, indent=2, default=str))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}", file=sys.stderr)


def projection(phases: list[Phase], days: int = 252) -> dict[str, Any]:
    """A year's backfill through the Argo fan-out (docs/scaling-out.md): each day's pod pair (flat files and
    the stocks' extras, then the day's load) with ``P`` days side by side, then one transform of the year.

    On Snowflake the loads run side by side; on DuckDB they queue on the one file. The year's transform is
    bounded above by the measured day's (bars and snapshots, the Greeks of every contract) times the days:
    a backfill day has no snapshot, so its share is smaller."""
    by = {p.name: p.seconds for p in phases}
    fetch = by["ingest flat files"] + by["ingest stocks"]
    load = by["load flat files"]
    transform = by["transform"] * days
    out: dict[str, Any] = {"days": days, "transform_hours_upper_bound": round(transform / 3600, 1)}
    for pods in (2, 16):
        rounds = -(-days // pods)
        out[f"snowflake_fan_out_hours_P{pods}"] = round(rounds * (fetch + load) / 3600, 2)
        out[f"duckdb_fan_out_hours_P{pods}"] = round((rounds * fetch + days * load) / 3600, 2)
    return out


if __name__ == "__main__":
    main()
