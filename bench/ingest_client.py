"""Benchmark: the options ingest client's CPU on a slice of the whole market, a baseline tree against this one.

The whole-market day's options ingest spent 229 s of client CPU against the simulator's 85 s (docs/benchmarks.md
"whole market"). This measures that client on a phase-sized slice: ``smelt ingest options`` (snapshot path:
contracts, the chain snapshot, dividends) for ``--count`` optionable underlyings of the market universe from
``--first`` on, against one served simulator (``smelt sim serve``, ``SMELT_SIM_UNIVERSE=market``), one process
per variant, CPU from ``wait4``, alternating the order between rounds:

* ``baseline``: the package as of ``--baseline`` (a git ref, ``git archive``d to a temporary folder);
* ``current``: this tree as installed.

Each variant's start-up (``smelt ingest options --help``: the imports, the same in every run however large) is
measured on its own, so the CPU a row is also given net of it, the figure that scales to the whole market. The
lake lines both variants landed in the first round are compared record by record (all but the two fields that
differ between any two runs, ``_meta.fetched_at`` and ``_meta.request_id``); the benchmark fails if they differ.

    .venv/bin/python -m bench.ingest_client [--first 100] [--count 300] [--rounds 2] [--baseline main]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from bench.whole_market import ROOT, SMELT, free_port, run_phase, served

#: What differs between any two runs of the same day: when each page was fetched, and the server's request id.
RUN_FIELDS = ("fetched_at", "request_id")


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as of ``ref`` (its ``workflows`` and ``dbt`` folders), importable from ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "workflows", "dbt"], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def landed(home: Path) -> dict[str, list[dict[str, Any]]]:
    """Every lake line under ``home`` by its part's folder (dataset, day, underlying), run fields dropped."""
    out: dict[str, list[dict[str, Any]]] = {}
    for part in sorted((home / "lake" / "raw").rglob("part-*.ndjson.gz")):
        lines = out.setdefault(str(part.parent.relative_to(home)), [])
        for line in gzip.decompress(part.read_bytes()).splitlines():
            record = orjson.loads(line)
            for name in RUN_FIELDS:
                record["_meta"].pop(name)
            lines.append(record)
    return out


def startup_cpu(env: dict[str, str], work: Path, name: str) -> float:
    """CPU of the process's fixed part: the imports ``smelt ingest options`` makes before any request."""
    return min(run_phase(f"{name}-startup-{i}", ["ingest", "options", "--help"], env, work).cpu_seconds
               for i in range(3))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--first", type=int, default=100, help="first optionable name of the slice")
    parser.add_argument("--count", type=int, default=300, help="underlyings in the slice")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default="main", help="git ref of the baseline's package")
    args = parser.parse_args()

    from workflows.simulator.universe import market_underlyings

    names = ",".join(market_underlyings(7)[args.first : args.first + args.count])
    work = Path(tempfile.mkdtemp(prefix="smelt-bench-client-"))
    try:
        base = baseline_tree(args.baseline, (work / "base").resolve())
        variants = {"baseline": str(base), "current": str(ROOT)}
        port = free_port()
        env = {**os.environ, "SMELT_SIM_UNIVERSE": "market", "SMELT_SIM_NOW": args.date.isoformat(),
               "SMELT_LOG_FORMAT": "json", "SMELT_LOG_LEVEL": "info"}  # fmt: skip
        sim = [str(SMELT), "sim", "serve", "--port", str(port)]
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
        startup: dict[str, float] = {}
        with served(sim, env | {"SMELT_HOME": str(work / "sim")}, f"http://127.0.0.1:{port}/_sim/stats",
                    work / "sim.log"):  # fmt: skip
            for round_ in range(args.rounds):
                order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
                for name in order:
                    home = work / f"{name}-{round_}"
                    step_env = env | {"SMELT_HOME": str(home), "SMELT_SIM_URL": f"http://127.0.0.1:{port}",
                                      "PYTHONPATH": variants[name]}  # fmt: skip
                    if name not in startup:
                        startup[name] = startup_cpu(step_env, work, name)
                    ingest = ["ingest", "options", "--date", args.date.isoformat(), "--underlyings", names]
                    phase = run_phase(f"{name}-{round_}", ingest, step_env, work)
                    rows = int(phase.fields.get("rows", 0))
                    results[name].append((phase.seconds, phase.cpu_seconds, rows))
                    print(f"round {round_} {name:>10}: {phase.seconds:6.1f} s wall, {phase.cpu_seconds:6.1f} s CPU, "
                          f"{rows} rows", flush=True)  # fmt: skip
        before, after = landed(work / "baseline-0"), landed(work / "current-0")
        if before != after:
            differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            raise SystemExit(
                f"the variants landed different lines in {len(differ)} folders, e.g. {differ[:3]}"
            )
        lines = sum(map(len, after.values()))
        print(f"\nlanded lines equal in both variants: {lines} lines in {len(after)} folders")
        base_cpu = min(cpu for _, cpu, _ in results["baseline"])
        base_net = base_cpu - startup["baseline"]
        print(f"{args.count} underlyings from #{args.first}; best of {args.rounds} rounds:")
        for name, runs in results.items():
            wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            rows, net = runs[0][2], cpu - startup[name]
            print(f"  {name:>10}: {wall:6.1f} s wall, {cpu:6.1f} s CPU ({cpu / base_cpu:.2f}x the baseline's), "
                  f"start-up {startup[name]:.1f} s, net {net:.1f} s ({net / base_net:.2f}x), {rows} rows, "
                  f"{1e6 * cpu / max(rows, 1):.0f} us CPU a row, {1e6 * net / max(rows, 1):.0f} us net")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
