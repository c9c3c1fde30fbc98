"""Load test: many simulated users clicking through the served dashboard at once (issue 18 §4).

Serves the marts snapshot of ``--home`` with ``smelt dashboard`` (the production gunicorn settings:
``dashboard/serving.py``) on loopback, once per ``--combos`` entry (workers x threads), and drives it with
``--users`` asyncio clients (httpx) for ``--duration`` seconds (and at most ``--max-requests`` requests).

The payloads are the browser's own: a headless Chromium first walks each page over several tickers, days and
view options, and every ``/_dash-update-component`` POST it sends is recorded with when it started and
ended. A simulated user then repeats: pick a recorded view, load the page (its HTML, ``_dash-layout`` and
``_dash-dependencies``, as a full load does; static assets are taken as cached) or navigate in the app, send
the view's callbacks in the browser's order (a request waits for the requests that had answered before the
browser sent it, so independent callbacks go out together, as Dash's renderer sends them), then think for a
while. Each server starts cold (caches empty, as after a deploy or a new build).

Reported per callback and per page load: p50/p95 latency, over the whole run and after its first minute
(the cold start); errors (a transport failure, a status other than 200/204, or an answer carrying an error
or refused notice); the server's CPU seconds per request (what the load costs, whatever else the host
runs); the RSS of the server's processes sampled every second (median of the first and the last minute,
and the peak); and, as the baseline of the same run, one user alone on the same, now warm, server.

    .venv/bin/python -m bench.dashboard_load --home /tmp/smelt-home [--users 50] [--duration 90]
        [--combos 1x4,2x4,2x8] [--think 2,8] [--views 6] [--recording /tmp/views.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import random
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from bench.dashboard_support import chromium, serve, wait_for_charts
from dashboard import state
from dashboard.marts import SnapshotSource
from dashboard.pages import PAGES, chain, common, market, positioning, volatility
from dashboard.queries import Queries
from workflows.publish import snapshot_root
from workflows.settings import load_settings

UPDATE = "/_dash-update-component"
#: Markers of a callback that answered with a failure rather than data (dashboard.layout.notice kinds).
FAILED = (b"notice-error", b"notice-refused")
#: Seconds after which a request counts as sent to a warm server.
WARM_AFTER = 60.0


# --- the views and the browser's payloads -------------------------------------------------------------


def view_urls(home: Path, per_page: int, seed: int) -> list[str]:
    """``per_page`` URLs per page: random underlyings and option days, and each page's own view options."""
    q = Queries.over(SnapshotSource(snapshot_root(load_settings(home=home))))
    rng = random.Random(seed)
    tickers = q.underlyings()
    options = {
        market.PATH: {"range": list(common.RANGE_LABELS), "adj": list(market.PRICES)},
        chain.PATH: {"money": list(chain.MONEYNESS), "dte": ["30", "90", "all"]},
        volatility.PATH: {"view": list(volatility.VIEWS), "range": ["6m", "1y"]},
        positioning.PATH: {"metric": list(positioning.METRICS), "band": list(positioning.BANDS)},
    }
    urls = []
    for page in PAGES:
        for _ in range(per_page if page.STATE else 1):
            ticker = rng.choice(tickers)
            view = {"ticker": ticker, "date": rng.choice(q.option_days(ticker)[:20]).isoformat()}
            view.update({key: rng.choice(values) for key, values in options.get(page.PATH, {}).items()})
            urls.append(page.PATH + (state.encode(view) if page.STATE else ""))
    return urls


def record(home: Path, urls: list[str]) -> list[dict[str, Any]]:
    """Load each URL in Chromium and keep the callback POSTs it sends: body, start and end (s from load)."""
    views = []
    with serve(home) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for url in urls:
            sent: list[dict[str, Any]] = []
            clock = functools.partial(lambda t0: time.perf_counter() - t0, time.perf_counter())
            pending: dict[Any, dict[str, Any]] = {}

            def on_request(
                request: Any,
                sent: list[dict[str, Any]] = sent,
                pending: dict[Any, Any] = pending,
                clock: Any = clock,
            ) -> None:
                url = urlsplit(request.url)
                if request.method == "POST" and url.path == UPDATE:
                    # The query (a per-page-load token, read only by background callbacks) is kept as sent.
                    pending[request] = {
                        "path": f"{url.path}?{url.query}" if url.query else url.path,
                        "body": request.post_data_json,
                        "start": clock(),
                        "end": None,
                    }
                    sent.append(pending[request])

            def on_done(request: Any, pending: dict[Any, Any] = pending, clock: Any = clock) -> None:
                if request in pending:
                    pending[request]["end"] = clock()

            page.on("request", on_request)
            page.on("requestfinished", on_done)
            page.goto(base + url)
            wait_for_charts(page, timeout=120_000)
            page.wait_for_load_state("networkidle")
            page.remove_listener("request", on_request)
            page.remove_listener("requestfinished", on_done)
            views.append({"url": url, "callbacks": [s for s in sent if s["end"] is not None]})
    return views


def callback_name(body: dict[str, Any]) -> str:
    """A callback's first output, as ``component.property`` (a pattern id by its type)."""
    first = body["outputs"][0] if isinstance(body["outputs"], list) else body["outputs"]
    ident = first["id"]
    if isinstance(ident, dict):
        ident = ident.get("type", json.dumps(ident, sort_keys=True))
    prop = first["property"].split("@")[0]  # allow_duplicate outputs carry "@<hash>"
    if ident == "url":  # every page writes the URL: name the page by its first input's id
        return f"url.{prop} ({body['inputs'][0]['id'].split('-')[0]})"
    return f"{ident}.{prop}"


# --- the load ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    #: The requests sent after the first minute: the server past its cold start.
    steady_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    requests: int = 0
    begun: float = field(default_factory=time.monotonic)

    def add(self, name: str, ms: float, error: str | None, sent: float) -> None:
        self.requests += 1
        self.latency_ms.setdefault(name, []).append(ms)
        if sent - self.begun >= WARM_AFTER:
            self.steady_ms.setdefault(name, []).append(ms)
        if error:
            self.errors[name] = self.errors.get(name, 0) + 1
            if len(self.examples) < 10:
                self.examples.append(f"{name}: {error}")


async def timed_request(
    client: httpx.AsyncClient, tally: Tally, name: str, method: str, url: str, body: Any = None
) -> None:
    sent, started = time.monotonic(), time.perf_counter()
    error = None
    try:
        response = await client.request(method, url, json=body)
        content = response.content
        if response.status_code not in (200, 204):
            error = f"HTTP {response.status_code}: {content[:200]!r}"
        elif any(marker in content for marker in FAILED):
            error = "the answer carries an error notice"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    tally.add(name, (time.perf_counter() - started) * 1000, error, sent)


async def view(client: httpx.AsyncClient, tally: Tally, recorded: dict[str, Any], full_load: bool) -> None:
    """One view: the page load if ``full_load``, then its callbacks in the browser's dependency order."""
    if full_load:
        path = recorded["url"].split("?")[0]
        await timed_request(client, tally, f"page {path}", "GET", recorded["url"])
        await asyncio.gather(
            timed_request(client, tally, "_dash-layout", "GET", "/_dash-layout"),
            timed_request(client, tally, "_dash-dependencies", "GET", "/_dash-dependencies"),
        )
    calls = recorded["callbacks"]
    tasks: list[asyncio.Task[None]] = []
    for call in calls:
        after = [tasks[i] for i, earlier in enumerate(calls[: len(tasks)]) if earlier["end"] <= call["start"]]

        async def send(call: dict[str, Any] = call, after: list[asyncio.Task[None]] = after) -> None:
            await asyncio.gather(*after)
            await timed_request(
                client, tally, callback_name(call["body"]), "POST", call["path"], call["body"]
            )

        tasks.append(asyncio.create_task(send()))
    await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Crowd:
    """Who clicks, how long and how often: ``users`` users for ``seconds`` (or ``max_requests`` in all),
    each pausing ``think`` (min, max seconds) between views."""

    users: int
    seconds: float
    max_requests: int
    think: tuple[float, float]
    seed: int


async def user(
    base: str, views: list[dict[str, Any]], crowd: Crowd, tally: Tally, deadline: float, rng: random.Random
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        await asyncio.sleep(rng.uniform(0, crowd.think[1]))  # users arrive spread out, not in one burst
        first = True
        while time.monotonic() < deadline and tally.requests < crowd.max_requests:
            await view(client, tally, rng.choice(views), full_load=first or rng.random() < 0.2)
            first = False
            await asyncio.sleep(min(rng.uniform(*crowd.think), max(0.0, deadline - time.monotonic())))


def server_tree(base: str) -> list[psutil.Process]:
    """The gunicorn master (``smelt dashboard``) serving ``base`` and its workers."""
    port = int(base.rsplit(":", 1)[1])
    pids = [c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid]
    master = psutil.Process(pids[0])
    while master.parent() is not None and "dashboard" in master.parent().cmdline():
        master = master.parent()
    return [master, *master.children(recursive=True)]


@contextlib.contextmanager
def rss_sampler(base: str, every: float = 1.0) -> Iterator[list[tuple[float, float]]]:
    """Samples (seconds since start, total RSS MiB of the server's processes) on a thread."""
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    tree = server_tree(base)
    started = time.monotonic()

    def sample() -> None:
        while not stop.wait(every):
            total = 0.0
            for process in tree:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss / 2**20
            samples.append((time.monotonic() - started, total))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def rss_summary(samples: list[tuple[float, float]], window: float = 60.0) -> dict[str, float]:
    """Median RSS of the first and the last ``window`` seconds (the growth between them) and the peak."""
    end = samples[-1][0]
    first = [mib for t, mib in samples if t <= min(window, end / 2)]
    last = [mib for t, mib in samples if t >= max(end - window, end / 2)]
    return {
        "first_minute_mib": round(statistics.median(first), 1),
        "last_minute_mib": round(statistics.median(last), 1),
        "growth_mib": round(statistics.median(last) - statistics.median(first), 1),
        "peak_mib": round(max(mib for _, mib in samples), 1),
        "per_minute_mib": [
            round(statistics.median(mib for t, mib in samples if minute * 60 <= t < (minute + 1) * 60), 1)
            for minute in range(int(end // 60) + 1)
            if any(minute * 60 <= t < (minute + 1) * 60 for t, _ in samples)
        ],
    }


def latency(tally: Tally) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, values in sorted(tally.latency_ms.items()):
        out[name] = {
            "n": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(pct(values, 0.95), 1),
            "errors": tally.errors.get(name, 0),
        }
        steady = tally.steady_ms.get(name)
        if steady:
            out[name]["after_first_minute_p95_ms"] = round(pct(steady, 0.95), 1)
    return out


def cpu_seconds(tree: list[psutil.Process]) -> float:
    total = 0.0
    for process in tree:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def drive(base: str, views: list[dict[str, Any]], crowd: Crowd) -> Tally:
    tally = Tally()
    rng = random.Random(crowd.seed)
    seeds = [rng.random() for _ in range(crowd.users)]

    async def everyone() -> None:
        deadline = time.monotonic() + crowd.seconds
        await asyncio.gather(*(user(base, views, crowd, tally, deadline, random.Random(s)) for s in seeds))

    asyncio.run(everyone())
    return tally


def run_load(
    home: Path, views: list[dict[str, Any]], workers: int, threads: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``args.users`` users for ``args.duration`` s on a fresh server (cold caches, as after a deploy), then
    one user alone on the same, now warm, server: the baseline the loaded latencies are compared with."""
    env = {"SMELT_DASHBOARD_WORKERS": str(workers), "SMELT_DASHBOARD_THREADS": str(threads)}
    with serve(home, env=env) as base:
        tree = server_tree(base)
        cpu_before, load_before = cpu_seconds(tree), psutil.getloadavg()[0]
        client_before = time.process_time()
        started = time.monotonic()
        with rss_sampler(base) as samples:
            tally = drive(
                base, views, Crowd(args.users, args.duration, args.max_requests, args.think, args.seed)
            )
        seconds = time.monotonic() - started
        cpu = cpu_seconds(tree) - cpu_before
        client_cpu = time.process_time() - client_before
        load_after = psutil.getloadavg()[0]
        alone = drive(base, views, Crowd(1, args.baseline, args.max_requests, (0.2, 0.5), args.seed))
    every = [ms for values in tally.latency_ms.values() for ms in values]
    quiet = [ms for values in alone.latency_ms.values() for ms in values]
    later = [ms for values in tally.steady_ms.values() for ms in values]
    return {
        "workers": workers,
        "threads": threads,
        "users": args.users,
        "seconds": round(seconds, 1),
        "requests": tally.requests,
        "requests_per_second": round(tally.requests / seconds, 1),
        "errors": sum(tally.errors.values()) + sum(alone.errors.values()),
        "error_examples": tally.examples + alone.examples,
        "all_p50_ms": round(statistics.median(every), 1),
        "all_p95_ms": round(pct(every, 0.95), 1),
        "after_first_minute_p95_ms": round(pct(later, 0.95), 1) if later else None,
        "one_user_p50_ms": round(statistics.median(quiet), 1),
        "one_user_p95_ms": round(pct(quiet, 0.95), 1),
        "server_cpu_seconds": round(cpu, 1),
        "server_cpu_ms_per_request": round(1000 * cpu / max(tally.requests, 1), 1),
        # The load generator shares the host: its own CPU is time the server could not have.
        "client_cpu_seconds": round(client_cpu, 1),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "rss": rss_summary(samples),
        "per_request": latency(tally),
        "one_user": latency(alone),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="SMELT_HOME with a published snapshot")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of load per combination")
    parser.add_argument(
        "--max-requests", type=int, default=100_000, help="stop a run after this many requests"
    )
    parser.add_argument("--combos", default="1x4,2x4,2x8", help="workers x threads, comma-separated")
    parser.add_argument("--think", default="2,8", help="a user's pause between views: min,max seconds")
    parser.add_argument("--views", type=int, default=6, help="recorded views per page")
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds of one user alone afterwards")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--recording", type=Path, help="reuse (or write) the browser's recorded payloads here"
    )
    args = parser.parse_args()
    args.think = tuple(float(x) for x in args.think.split(","))
    if args.recording and args.recording.exists():
        views = json.loads(args.recording.read_text())
    else:
        views = record(args.home, view_urls(args.home, args.views, args.seed))
        if args.recording:
            args.recording.write_text(json.dumps(views))
    result: dict[str, Any] = {
        "views": len(views),
        "callbacks_per_view_mean": round(statistics.mean(len(v["callbacks"]) for v in views), 1),
        "runs": [],
    }
    for combo in args.combos.split(","):
        workers, threads = (int(x) for x in combo.lower().split("x"))
        result["runs"].append(run_load(args.home, views, workers, threads, args))
        print(json.dumps(result["runs"][-1], indent=1), flush=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
