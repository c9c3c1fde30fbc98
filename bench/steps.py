"""Benchmark: the whole-process time of each step command, as Argo runs them (one process per step).

Two venvs are installed the way an image installs smelt (``requirements-pipeline.lock``, then the wheel):
one with ``--compile-bytecode``, as `make install` and the Dockerfiles do, and the baseline without it, run
with ``PYTHONDONTWRITEBYTECODE=1`` as the Makefile used to, so every start compiles smelt's imports from
source. Each command runs in both, against one served simulator (``smelt sim serve``, 20 underlyings).
Reports the median seconds of each and their ratio.

    .venv/bin/python bench/steps.py [--date YYYY-MM-DD] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workflows import calendar

STEPS = {
    "--help": ["--help"],
    "ingest stocks": ["ingest", "stocks", "--date", "{day}"],
    "ingest options (20 underlyings)": ["ingest", "options", "--date", "{day}"],
    "load": ["load", "--date", "{day}"],
    "transform": ["transform"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


def install(venv: Path, wheel: Path, *, bytecode: bool) -> Path:
    compile_ = ["--compile-bytecode"] if bytecode else []
    python = venv / "bin" / "python"
    for command in (
        [UV, "venv", "--quiet", "--python", sys.executable, venv],
        [UV, "pip", "sync", "--quiet", *compile_, "--require-hashes", "--python", python,
         ROOT / "requirements-pipeline.lock"],
        [UV, "pip", "install", "--quiet", *compile_, "--no-deps", "--python", python, wheel],
    ):  # fmt: skip
        subprocess.run([str(c) for c in command], check=True)
    return venv / "bin" / "smelt"


def timed(smelt: Path, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(smelt), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=str, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    day = args.date or calendar.previous_trading_days(calendar.last_completed_trading_day(), 2)[0].isoformat()

    work = Path(tempfile.mkdtemp(prefix="smelt-bench-steps-"))
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(work / "dist"), str(ROOT)], check=True
    )
    (wheel,) = (work / "dist").glob("smelt-*.whl")
    venvs = {
        "compiled": install(work / "compiled", wheel, bytecode=True),
        "from source": install(work / "source", wheel, bytecode=False),
    }
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "PYTHON"))}
    sim = subprocess.Popen(
        [sys.executable, "-m", "workflows", "sim", "serve", "--port", str(port)],
        env={**base, "SMELT_LOG_LEVEL": "warning"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        seconds: dict[tuple[str, str], list[float]] = {}
        for repeat in range(args.repeat):
            for mode, smelt in venvs.items():
                env = {**base, "PYTHONDONTWRITEBYTECODE": "1", "SMELT_HOME": str(work / f"{mode}-{repeat}"),
                       "SMELT_SIM_URL": f"http://127.0.0.1:{port}", "SMELT_LOG_FORMAT": "json",
                       "SMELT_LOG_LEVEL": "warning"}  # fmt: skip
                for name, command in STEPS.items():
                    argv = [a.format(day=day) for a in command]
                    seconds.setdefault((name, mode), []).append(timed(smelt, argv, env))
    finally:
        sim.terminate()
        sim.wait(10)

    print(f"## Whole-process time of each step command ({day}, served simulator, median of {args.repeat})\n")
    print("| command | byte-compiled | compiled from source (baseline) | ratio |")
    print("|---|---|---|---|")
    for name in STEPS:
        fast, slow = (statistics.median(seconds[(name, m)]) for m in venvs)
        print(f"| `smelt {name}` | {fast:.2f} s | {slow:.2f} s | {fast / slow:.2f} |")


if __name__ == "__main__":
    main()
