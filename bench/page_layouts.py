"""Benchmark: the CPU of each page's layout (the router's ``page.children``, built on every navigation) with the
underlyings list kept per build version, against the same layouts reading it from the query's column on every
call (what the pages did before), in one run over the published marts of ``--home``.

The whole market lists 5,000 underlyings; each layout asks for them twice (the picker, the URL's check), and the
50-user load test there showed ``page.children`` as the slowest request (docs/benchmarks.md). Measured as
``time.process_time`` of the route and of the JSON Dash makes of it, the query cache warm; the two variants
alternate call by call so drift on the host hits both alike.

    nice -n 10 .venv/bin/python -m bench.page_layouts --home /tmp/smelt-home [--repeat 20]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from dash._utils import to_json

from dashboard.app import route
from dashboard.marts import SnapshotSource
from dashboard.pages import PAGES
from dashboard.queries import Queries
from workflows.marts_contract import SNAPSHOT_DIR


def underlyings_per_call(q: Queries) -> tuple[str, ...]:
    """The list as the pages read it before: the query's Arrow-backed column iterated on every call."""
    sql = f"SELECT DISTINCT underlying FROM {q._t('mart_options_positioning')} ORDER BY underlying"
    return tuple(q._run(sql)["underlying"])


def cpu_ms(build: Callable[[], Any]) -> float:
    started = time.process_time()
    to_json(build())
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="SMELT_HOME with a published snapshot")
    parser.add_argument("--repeat", type=int, default=20, help="layouts per page and variant")
    args = parser.parse_args()
    q = Queries.over(SnapshotSource(args.home / SNAPSHOT_DIR))
    ticker = "SPY" if "SPY" in q.underlyings() else q.underlyings()[0]
    result: dict[str, Any] = {"underlyings": len(q.underlyings()), "ticker": ticker, "pages": {}}
    for page in PAGES:
        layout = functools.partial(route, q, page.PATH, f"?ticker={ticker}", None)
        timings: dict[str, list[float]] = {"kept": [], "per_call": []}
        layout()  # warm the query cache for both
        for _ in range(args.repeat):
            timings["kept"].append(cpu_ms(layout))
            with mock.patch.object(Queries, "underlyings", underlyings_per_call):
                timings["per_call"].append(cpu_ms(layout))
        kept, per_call = (statistics.median(timings[k]) for k in ("kept", "per_call"))
        result["pages"][page.PATH] = {
            "kept_ms": round(kept, 2),
            "per_call_ms": round(per_call, 2),
            "ratio": round(kept / per_call, 3) if per_call else None,
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
