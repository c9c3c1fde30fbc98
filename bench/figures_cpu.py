"""Benchmark: the CPU of each chart callback with figures written out as plain dicts (``dashboard.figures``)
against the same callbacks with plotly's graph-object builds (``tests/dashboard/figures_plotly.py``, what the
pages used before: decisions 106 and 117), in one run over the published marts of ``--home``.

A callback's CPU decides how many users two workers serve (bench/dashboard_load.py): this is its own cost,
``time.process_time`` of the call and of the JSON Dash makes of its output, so other load on the host does not
count. Every call builds its figures again (the query cache warm, answers not cached: a new view of data
already read); the two builds alternate call by call so drift on the host hits both alike.

    nice -n 10 .venv/bin/python -m bench.figures_cpu --home /tmp/smelt-home [--samples 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dash._utils import to_json

from bench.dashboard_bench import callbacks, pct
from dashboard import figures
from dashboard.marts import SnapshotSource
from dashboard.queries import Queries
from tests.dashboard import figures_plotly
from tests.dashboard.figures_plotly import BUILDERS
from workflows.publish import snapshot_root
from workflows.settings import load_settings


@contextlib.contextmanager
def graph_objects() -> Iterator[None]:
    """The pages call ``figures.<builder>`` at call time, so swapping the module's names swaps what they draw."""
    kept = {name: getattr(figures, name) for name in BUILDERS}
    try:
        for name in BUILDERS:
            setattr(figures, name, getattr(figures_plotly, name))
        yield
    finally:
        for name, build in kept.items():
            setattr(figures, name, build)


def cpu_ms(fn: Callable[[], tuple[Any, ...]]) -> float:
    started = time.process_time()
    to_json(fn())
    return (time.process_time() - started) * 1000


def measure(home: Path, samples: int, repeat: int, seed: int) -> dict[str, dict[str, float]]:
    q = Queries.over(SnapshotSource(snapshot_root(load_settings(home=home))), answers=0)
    rng = random.Random(seed)
    tickers = q.underlyings()
    picks = [(t, rng.choice(q.option_days(t)[:20])) for t in rng.sample(tickers, min(samples, len(tickers)))]
    dicts: dict[str, list[float]] = {}
    objects: dict[str, list[float]] = {}
    for ticker, day in picks:
        for name, fn in callbacks(q, ticker, day).items():
            to_json(fn())  # the queries into the cache
            for _ in range(repeat):
                dicts.setdefault(name, []).append(cpu_ms(fn))
                with graph_objects():
                    objects.setdefault(name, []).append(cpu_ms(fn))
    out = {}
    for name in dicts:
        new, old = statistics.median(dicts[name]), statistics.median(objects[name])
        out[name] = {
            "graph_objects_p50_ms": round(old, 2), "graph_objects_p95_ms": round(pct(objects[name], 0.95), 2),
            "dicts_p50_ms": round(new, 2), "dicts_p95_ms": round(pct(dicts[name], 0.95), 2),
            "ratio_p50": round(old / new, 2) if new else float("nan"),
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="SMELT_HOME with a published snapshot")
    parser.add_argument("--samples", type=int, default=8, help="underlyings, each on one of its newest days")
    parser.add_argument("--repeat", type=int, default=3, help="calls per callback and build, per sample")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.home, args.samples, args.repeat, args.seed)
    for name, row in result.items():
        print(f"{name:22s} graph objects {row['graph_objects_p50_ms']:6.1f} ms  dicts {row['dicts_p50_ms']:6.1f} ms"
              f"  {row['ratio_p50']:5.1f}x", flush=True)  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
