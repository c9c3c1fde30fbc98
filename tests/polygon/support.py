"""Helpers for the Polygon client tests: a fake-time loop, a recording fake API, canned responses.

Async code runs on a ``looptime`` event loop, so sleeps, backoff and the rate limiter advance fake time
only: "12 requests at 5/min" takes milliseconds of real time while the loop's clock says 84 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import looptime

from workflows.polygon import Backoff, Page, PolygonClient

FAKE_KEY = "pk_TEST_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"
BASE_URL = "https://api.polygon.io"
OK_EMPTY = {"status": "OK", "request_id": "req-empty", "resultsCount": 0}
#: One valid option contract, for pagination tests that only need pages of something.
CONTRACT = {
    "ticker": "O:SPY240315C00500000",
    "underlying_ticker": "SPY",
    "contract_type": "call",
    "expiration_date": "2024-03-15",
    "strike_price": 500,
}

T = TypeVar("T")
Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def run_fake_time(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh looptime loop (its fake clock starts at 0)."""
    with asyncio.Runner(loop_factory=looptime.new_event_loop) as runner:
        return runner.run(coro)


class ProcessClock:
    """A fake ``time.monotonic()`` for a process that runs one event loop after another.

    Standard loops read ``time.monotonic()``, so the clock of the next ``asyncio.run`` continues where
    the last one stopped. :meth:`run` is ``asyncio.run`` on a looptime loop that starts at :attr:`now`
    and hands its end time on to the next run: the pipeline's steps, on fake time.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=lambda: looptime.new_event_loop(start=self.now)) as runner:
            try:
                return runner.run(coro)
            finally:
                self.now = runner.get_loop().time()


def now() -> float:
    """The running loop's (fake) clock."""
    return asyncio.get_running_loop().time()


@dataclass
class FakeApi:
    """An ``httpx.MockTransport`` around a handler; records every request it sees."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        async def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            result = self.handler(request)
            if not isinstance(result, httpx.Response):
                result = await result
            return result

        self.transport = httpx.MockTransport(record)

    @property
    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]

    def client(self, api_key: str | None = FAKE_KEY, **options: Any) -> PolygonClient:
        options.setdefault("sleep", fake_sleep)
        options.setdefault("backoff", Backoff(base=1.0, cap=30.0))
        return PolygonClient(options.pop("base_url", BASE_URL), api_key, transport=self.transport, **options)


async def fake_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)  # fake time on a looptime loop


class RecordingSleep:
    """A fake ``sleep``: records each delay and advances the loop's fake clock by it."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(seconds)


def respond(
    status: int = 200, body: Any = None, *, content: bytes | None = None, **headers: str
) -> httpx.Response:
    """A response with a JSON ``body`` or raw ``content``; header names use ``_`` for ``-``."""
    hdrs = {name.replace("_", "-"): value for name, value in headers.items()}
    if content is not None:
        return httpx.Response(status, content=content, headers=hdrs)
    return httpx.Response(status, json=body if body is not None else OK_EMPTY, headers=hdrs)


def sequence(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with ``responses`` in order (an exception is raised), repeating the last one."""
    queue = list(responses)

    def handler(_: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return httpx.Response(item.status_code, content=item.content, headers=item.headers)

    return handler


async def drain(pages: AsyncIterator[Page]) -> list[Page]:
    return [page async for page in pages]


ERRORS = Path(__file__).resolve().parents[1] / "fixtures" / "polygon" / "errors"


def error_body(name: str) -> bytes:
    """An error body from ``tests/fixtures/polygon/errors`` (see its README for where each shape comes from)."""
    return (ERRORS / name).read_bytes()


NGINX_504 = error_body("504_gateway_timeout.html")
