"""Pacing and backoff: stay under the plan's rate, wait sensibly when the API pushes back.

Polygon meters a key, not a connection, so every client of the process that uses the same rate must draw
from ONE bucket: :func:`shared_limiter` keeps a leaky bucket per (event loop, rate). It is per loop because
an ``AsyncLimiter`` binds to the loop that first uses it; a process runs one loop, tests run many.
Retried attempts go through the bucket again, so retries cannot break the rate either.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, AsyncLimiter]] = (
    weakref.WeakKeyDictionary()
)


def shared_limiter(rate_per_minute: int) -> AsyncLimiter:
    """The process-wide bucket for ``rate_per_minute`` on the running loop (a burst of ``rate``, then even)."""
    if rate_per_minute < 1:
        raise ValueError(f"rate_per_minute must be at least 1, got {rate_per_minute}")
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    if rate_per_minute not in per_loop:
        per_loop[rate_per_minute] = AsyncLimiter(rate_per_minute, 60)
    return per_loop[rate_per_minute]


class Pacer:
    """A request slot: at most ``max_concurrency`` in flight, each started only when the bucket allows.

    ``limiter`` overrides the shared bucket (a custom period, a bucket shared with other code).
    """

    def __init__(
        self, rate_per_minute: int | None, max_concurrency: int, limiter: AsyncLimiter | None = None
    ) -> None:
        if rate_per_minute is not None and rate_per_minute < 1:
            raise ValueError(f"rate_per_minute must be at least 1 or None, got {rate_per_minute}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.rate_per_minute = rate_per_minute
        self.max_concurrency = max_concurrency
        self._limiter = limiter
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def limiter(self) -> AsyncLimiter | None:
        if self._limiter is not None:
            return self._limiter
        return shared_limiter(self.rate_per_minute) if self.rate_per_minute else None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold a slot for one request; yields the seconds spent waiting for the rate limit."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_concurrency)
        async with semaphore:
            waited = 0.0
            limiter = self.limiter()
            if limiter is not None:
                start = loop.time()
                await limiter.acquire()
                waited = loop.time() - start
            yield waited


@dataclass(frozen=True)
class Backoff:
    """Jittered exponential backoff: attempt n waits between half and all of ``min(cap, base * 2**(n-1))``.

    Half of the delay is fixed so a retry never fires at once; the other half is random so clients that
    failed together do not retry together. ``Retry-After`` replaces the computed delay, up to
    ``retry_after_cap`` (a server asking for an hour should fail the step, not stall it).
    """

    base: float = 2.0
    cap: float = 60.0
    retry_after_cap: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_cap))
        ceiling = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)
