"""Benchmark: the options ingest client's CPU on a slice of the whole market, a baseline tree against this one.

The whole-market day's options ingest spent 229 s of client CPU against the simulator's 85 s (docs/benchmarks.md
"whole market"). This measures that client on a phase-sized slice: ``smelt ingest options`` (snapshot path:
contracts, the chain snapshot, dividends) for ``--count`` optionable underlyings of the market universe from
``--first`` on, against one served simulator (``smelt sim serve``, ``SMELT_SIM_UNIVERSE=market``), one process
per variant, CPU from ``wait4``. In one run, alternately:

* ``baseline``: the package as of ``--baseline`` (a git ref, ``git archive``d to a temporary folder), with
  ``sniffio`` hidden as it was before it became a dependency (each import of it then searches ``sys.path``);
* ``no-sniffio``: this tree, ``sniffio`` hidden (the client's own changes alone);
* ``current``: this tree as installed.

    .venv/bin/python bench/ingest_client.py [--first 100] [--count 300] [--rounds 2] [--baseline main]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.whole_market import ROOT, SMELT, free_port, run_phase, served

#: A ``sitecustomize`` that makes ``import sniffio`` fail the way a missing package does: after the search.
HIDE_SNIFFIO = """
import importlib.machinery, sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "sniffio":
            importlib.machinery.PathFinder.find_spec(name, path)  # the search a missing module costs
            raise ModuleNotFoundError("No module named 'sniffio'", name=name)
        return None
sys.meta_path.insert(0, _Hide())
"""


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as of ``ref`` (its ``workflows`` and ``dbt`` folders), importable from ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "workflows", "dbt"], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


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
        hide = work / "hide"
        hide.mkdir()
        (hide / "sitecustomize.py").write_text(HIDE_SNIFFIO)
        base = baseline_tree(args.baseline, (work / "base").resolve())
        variants = {
            "baseline": f"{base}{os.pathsep}{hide}",
            "no-sniffio": f"{ROOT}{os.pathsep}{hide}",
            "current": str(ROOT),
        }
        port = free_port()
        env = {**os.environ, "SMELT_SIM_UNIVERSE": "market", "SMELT_SIM_NOW": args.date.isoformat(),
               "SMELT_LOG_FORMAT": "json", "SMELT_LOG_LEVEL": "info"}  # fmt: skip
        sim = [str(SMELT), "sim", "serve", "--port", str(port)]
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
        with served(sim, env | {"SMELT_HOME": str(work / "sim")}, f"http://127.0.0.1:{port}/_sim/stats",
                    work / "sim.log"):  # fmt: skip
            for round_ in range(args.rounds):
                order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
                for name in order:
                    home = work / f"{name}-{round_}"
                    step_env = env | {"SMELT_HOME": str(home), "SMELT_SIM_URL": f"http://127.0.0.1:{port}",
                                      "PYTHONPATH": variants[name]}  # fmt: skip
                    ingest = ["ingest", "options", "--date", args.date.isoformat(), "--underlyings", names]
                    phase = run_phase(f"{name}-{round_}", ingest, step_env, work)
                    rows = int(phase.fields.get("rows", 0))
                    results[name].append((phase.seconds, phase.cpu_seconds, rows))
                    print(f"round {round_} {name:>10}: {phase.seconds:6.1f} s wall, {phase.cpu_seconds:6.1f} s CPU, "
                          f"{rows} rows", flush=True)  # fmt: skip
        base_cpu = min(cpu for _, cpu, _ in results["baseline"])
        print(f"\n{args.count} underlyings from #{args.first}; best of {args.rounds} rounds:")
        for name, runs in results.items():
            wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            rows = runs[0][2]
            print(f"  {name:>10}: {wall:6.1f} s wall, {cpu:6.1f} s CPU ({cpu / base_cpu:.2f}x the baseline's), "
                  f"{rows} rows, {1e6 * cpu / max(rows, 1):.0f} us CPU a row")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
