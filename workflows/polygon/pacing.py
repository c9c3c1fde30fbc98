"""Pacing and backoff: stay under the plan's rate, wait sensibly when the API pushes back.

Polygon meters a key, not a connection or an event loop, so every request of the process that uses the
same plan rate draws from ONE bucket: :func:`shared_limiter` keeps one :class:`SharedBucket` per rate for
the whole process. The pipeline runs each step in its own ``asyncio.run`` (ingest_stocks, then
ingest_options, day after day), so the bucket outlives event loops: a new loop finds the level the last
one left, and does not start with a fresh burst. Retried attempts go through the bucket again, so
retries cannot break the rate either.

Why not one ``aiolimiter.AsyncLimiter`` per rate: it binds to the first loop that uses it and keeps its
wake-up timer and waiter futures on that loop. A later loop only takes it over when the first one is
closed (with a RuntimeWarning about "undefined behaviour"); while the first loop is open (another
thread's loop, a loop not closed yet) waiters of the second loop are woken by a timer of the first, from
its thread, or never. :class:`SharedBucket` holds no loop objects at all, only ``level`` and
``last_check`` behind a ``threading.Lock``, so sequential loops share it and concurrent loops in other
threads cannot corrupt it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol


class RateLimiter(Protocol):
    """What :class:`Pacer` needs from a bucket: ``await acquire()`` returns when a request may start.

    :class:`SharedBucket` and ``aiolimiter.AsyncLimiter`` both qualify.
    """

    async def acquire(self) -> None: ...


class SharedBucket:
    """A leaky bucket any event loop of the process may draw from: a burst of ``max_rate``, then even.

    Semantics are aiolimiter's: ``level`` drains at ``max_rate / time_period`` per second, and a request
    may start when ``level + 1 <= max_rate``. A request that finds the bucket full reserves the next slot
    (``level`` may exceed ``max_rate`` by the reservations) and sleeps on its own loop until that slot,
    so waiters start in arrival order and nothing but two floats is shared. A waiter cancelled before
    its slot gives the slot back.

    Time is the running loop's clock (``loop.time()``). For the standard loops that is
    ``time.monotonic()``, the same for every loop of the process, so the time between two
    ``asyncio.run`` calls counts as drained. If a loop's clock is behind the last check (a loop with a
    clock of its own, like a fake-time test loop that starts at 0), no time is credited for the jump:
    the bucket never refills early, and draining continues on the new clock.
    """

    def __init__(self, max_rate: float, time_period: float = 60) -> None:
        if max_rate <= 0 or time_period <= 0:
            raise ValueError(f"max_rate and time_period must be positive, got {max_rate}/{time_period}s")
        self.max_rate = max_rate
        self.time_period = time_period
        self._rate_per_sec = max_rate / time_period
        self._level = 0.0
        self._last_check: float | None = None
        self._lock = threading.Lock()

    def level(self, now: float) -> float:
        """The bucket's level at ``now`` (on the loops' clock), reservations included."""
        with self._lock:
            self._leak(now)
            return self._level

    def _leak(self, now: float) -> None:
        """Drain for the time since the last check; hold ``_lock``."""
        if self._last_check is not None and now > self._last_check:
            self._level = max(0.0, self._level - (now - self._last_check) * self._rate_per_sec)
        self._last_check = now

    def _reserve(self, now: float, amount: float) -> float:
        """Take ``amount`` of the bucket; the seconds until the reserved slot starts."""
        with self._lock:
            self._leak(now)
            self._level += amount
            return max(0.0, (self._level - self.max_rate) / self._rate_per_sec)

    def _give_back(self, amount: float) -> None:
        with self._lock:
            self._level = max(0.0, self._level - amount)

    async def acquire(self, amount: float = 1) -> None:
        """Return when ``amount`` of capacity is free (at once while the burst lasts)."""
        if not 0 <= amount <= self.max_rate:
            raise ValueError(f"amount must be between 0 and max_rate ({self.max_rate}), got {amount}")
        wait = self._reserve(asyncio.get_running_loop().time(), amount)
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except BaseException:  # cancelled before the slot came: the request never starts
                self._give_back(amount)
                raise

    def __repr__(self) -> str:
        return f"SharedBucket(max_rate={self.max_rate!r}, time_period={self.time_period!r})"


_buckets: dict[int, SharedBucket] = {}
_buckets_lock = threading.Lock()


def shared_limiter(rate_per_minute: int) -> SharedBucket:
    """The process-wide bucket for ``rate_per_minute``, shared by every loop and thread of the process."""
    if rate_per_minute < 1:
        raise ValueError(f"rate_per_minute must be at least 1, got {rate_per_minute}")
    with _buckets_lock:
        bucket = _buckets.get(rate_per_minute)
        if bucket is None:
            bucket = _buckets[rate_per_minute] = SharedBucket(rate_per_minute, 60)
        return bucket


class Pacer:
    """A request slot: at most ``max_concurrency`` in flight, each started only when the bucket allows.

    ``limiter`` overrides the shared bucket (a custom period, a bucket shared with other code).
    The concurrency bound is per client and per loop; the rate bound is the bucket's.
    """

    def __init__(
        self, rate_per_minute: int | None, max_concurrency: int, limiter: RateLimiter | None = None
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

    def limiter(self) -> RateLimiter | None:
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
    failed together do not retry together. ``Retry-After`` replaces the computed delay and is honoured
    exactly, up to ``retry_after_cap``: a server asking for longer (an hour, a day) fails the step
    instead of stalling it, so :meth:`exceeds_cap` answers are not retried at all (the client raises).
    """

    base: float = 2.0
    cap: float = 60.0
    retry_after_cap: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def exceeds_cap(self, retry_after: float | None) -> bool:
        """Whether the server asked for a longer wait than this backoff will sleep."""
        return retry_after is not None and retry_after > self.retry_after_cap

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            if self.exceeds_cap(retry_after):
                raise ValueError(
                    f"Retry-After {retry_after:g}s is above retry_after_cap {self.retry_after_cap:g}s: "
                    "the request must not be retried"
                )
            return max(0.0, retry_after)
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
