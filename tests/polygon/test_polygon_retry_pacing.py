"""Retries and pacing on a fake clock: nothing here sleeps for real."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import threading

import httpx
import pytest

from tests.polygon.support import (
    FakeApi,
    ProcessClock,
    RecordingSleep,
    drain,
    now,
    respond,
    run_fake_time,
    sequence,
)
from workflows.polygon import (
    Backoff,
    Page,
    PolygonAuthError,
    PolygonClient,
    PolygonError,
    PolygonRateLimitError,
    PolygonServerError,
    shared_limiter,
)
from workflows.polygon.pacing import SharedBucket, parse_retry_after

OK = respond(200, {"status": "OK", "request_id": "ok", "results": []})
THROTTLED = respond(429, {"status": "ERROR", "error": "You've exceeded the maximum requests per minute"})


async def chain(client: PolygonClient) -> list[Page]:
    return await drain(client.option_chain_snapshot("SPY"))


def test_backoff_is_exponential_bounded_and_jittered() -> None:
    def sequence_for(seed: int) -> list[float]:
        sleeps = RecordingSleep()
        api = FakeApi(sequence(respond(503, content=b"busy")))

        async def main() -> None:
            backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(seed))
            async with api.client(sleep=sleeps, backoff=backoff, max_attempts=7) as client:
                with pytest.raises(Exception, match="HTTP 503"):
                    await chain(client)
                assert client.stats.backoff_seconds == pytest.approx(sum(sleeps.delays))
            assert len(sleeps.delays) == 6

        run_fake_time(main())
        return sleeps.delays

    first, second = sequence_for(1), sequence_for(2)
    ceilings = [1, 2, 4, 8, 8, 8]  # base * 2**(n-1), capped
    for delays in (first, second):
        assert len(delays) == 6
        assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert first != second  # jittered
    assert sum(first) <= sum(ceilings)


def test_backoff_delay_never_exceeds_the_cap() -> None:
    backoff = Backoff(base=2.0, cap=60.0, retry_after_cap=120.0)
    assert all(30.0 <= backoff.delay(n) <= 60.0 for n in range(6, 40))
    assert backoff.delay(3, retry_after=7) == 7
    assert backoff.delay(1, retry_after=120) == 120  # the cap itself is honoured
    assert not backoff.exceeds_cap(None) and not backoff.exceeds_cap(120)
    assert backoff.exceeds_cap(120.5) and backoff.exceeds_cap(10_000)
    with pytest.raises(ValueError, match="above retry_after_cap"):  # never shortened to the cap
        backoff.delay(1, retry_after=10_000)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("2.5", 2.5), ("-3", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    base = dt.datetime(2025, 1, 6, 15, 0, tzinfo=dt.UTC)
    date = email.utils.format_datetime(base + dt.timedelta(seconds=45), usegmt=True)
    assert parse_retry_after(date, now=base) == 45.0
    assert (
        parse_retry_after(email.utils.format_datetime(base, usegmt=True), now=base + dt.timedelta(hours=1))
        == 0
    )


def test_retry_after_seconds_is_honoured_on_the_fake_clock(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(429, content=b"", retry_after="7"), OK))

    async def main() -> float:
        async with api.client(sleep=sleeps) as client:
            await chain(client)
            return now()

    assert run_fake_time(main()) == pytest.approx(7.0)
    assert sleeps.delays == [7.0] and len(api.requests) == 2


def test_retry_after_http_date_is_honoured(sleeps: RecordingSleep) -> None:
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    api = FakeApi(sequence(respond(503, content=b"", retry_after=soon), OK))

    async def main() -> None:
        async with api.client(sleep=sleeps, backoff=Backoff(retry_after_cap=120)) as client:
            await chain(client)

    run_fake_time(main())
    assert len(sleeps.delays) == 1 and 27 <= sleeps.delays[0] <= 30  # second resolution of HTTP dates
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"), [(429, PolygonRateLimitError), (503, PolygonServerError)], ids=["429", "503"]
)
def test_retry_after_above_the_cap_fails_at_once_instead_of_retrying_early(
    sleeps: RecordingSleep, status: int, error: type[PolygonError]
) -> None:
    api = FakeApi(sequence(respond(status, content=b"", retry_after="86400"), OK))

    async def main() -> None:
        async with api.client(sleep=sleeps, backoff=Backoff(retry_after_cap=120)) as client:
            await chain(client)

    with pytest.raises(error) as info:
        run_fake_time(main())
    message = str(info.value)
    assert "the server asked to wait 86400 s" in message and "more than the 120 s cap" in message
    assert "re-run the step later" in message and "/v3/snapshot/options/{underlying}" in message
    assert info.value.retry_after == 86400
    assert len(api.requests) == 1 and sleeps.delays == []  # no early retry, no sleep


def test_retry_after_above_the_cap_after_honoured_retries_names_the_attempts(sleeps: RecordingSleep) -> None:
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    api = FakeApi(
        sequence(
            respond(503, content=b"", retry_after=soon), respond(503, content=b"", retry_after="121"), OK
        )
    )

    async def main() -> None:
        async with api.client(sleep=sleeps, backoff=Backoff(retry_after_cap=120)) as client:
            await chain(client)

    with pytest.raises(PolygonServerError, match=r"asked to wait 121 s.*gave up after 2 attempts") as info:
        run_fake_time(main())
    assert info.value.attempts == 2 and len(api.requests) == 2
    assert len(sleeps.delays) == 1 and 27 <= sleeps.delays[0] <= 30


def test_retry_after_equal_to_the_cap_is_honoured(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(429, content=b"", retry_after="120"), OK))

    async def main() -> float:
        async with api.client(sleep=sleeps, backoff=Backoff(retry_after_cap=120)) as client:
            await chain(client)
            return now()

    assert run_fake_time(main()) == pytest.approx(120.0)
    assert sleeps.delays == [120.0] and len(api.requests) == 2


def test_401_makes_exactly_one_request_and_no_retry(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(401, {"status": "ERROR", "error": "Unknown API Key"}), OK))

    async def main() -> None:
        async with api.client(sleep=sleeps) as client:
            with pytest.raises(PolygonAuthError, match="check POLYGON_API_KEY"):
                await chain(client)

    run_fake_time(main())
    assert len(api.requests) == 1 and sleeps.delays == []


def test_429_storm_then_success_completes(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(THROTTLED, THROTTLED, THROTTLED, THROTTLED, OK))

    async def main() -> None:
        async with api.client(sleep=sleeps) as client:
            [page] = await chain(client)
            assert page.retries == 4
            assert client.stats.throttled == 4

    run_fake_time(main())
    assert len(api.requests) == 5
    assert len(sleeps.delays) == 4


def test_attempts_exhausted_raises_rate_limit_error_naming_the_endpoint() -> None:
    api = FakeApi(sequence(THROTTLED))

    async def main() -> None:
        async with api.client(max_attempts=6) as client:
            await drain(client.aggregates("O:AAPL230616C00150000", "2023-01-03", "2023-06-16"))

    with pytest.raises(PolygonRateLimitError) as info:
        run_fake_time(main())
    assert info.value.endpoint == "/v2/aggs/ticker/{ticker}/range/1/day/{from}/{to}"
    assert "/v2/aggs/ticker/{ticker}/range/1/day/{from}/{to}" in str(info.value)
    assert "gave up after 6 attempts" in str(info.value) and info.value.attempts == 6
    assert len(api.requests) == 6


@pytest.mark.parametrize("retry_after", [None, "3"], ids=["backoff", "retry-after"])
def test_429_storm_longer_than_the_attempt_budget_fails_naming_endpoint_and_attempts(
    sleeps: RecordingSleep, retry_after: str | None
) -> None:
    body = {"status": "ERROR", "error": "too many requests"}
    throttled = respond(429, body) if retry_after is None else respond(429, body, retry_after=retry_after)
    api = FakeApi(sequence(*[throttled] * 7, OK))  # the storm outlasts the default 6 attempts

    async def main() -> None:
        async with api.client(sleep=sleeps, rate_per_minute=5) as client:
            assert client.max_attempts == 6
            try:
                await chain(client)
            finally:
                assert client.stats.throttled == 6 and len(api.requests) == 6

    with pytest.raises(PolygonRateLimitError) as info:
        run_fake_time(main())
    error = info.value
    assert error.endpoint == "/v3/snapshot/options/{underlying}" and error.attempts == 6
    assert error.status_code == 429 and error.retryable
    message = str(error)
    assert "endpoint /v3/snapshot/options/{underlying}" in message and "gave up after 6 attempts" in message
    assert "rate limit exceeded (too many requests)" in message and "POLYGON_RATE_PER_MINUTE" in message
    assert len(api.requests) == 6 and len(sleeps.delays) == 5
    if retry_after is None:
        assert all(delay >= 12.0 for delay in sleeps.delays)  # at least one token of 5/min
    else:
        assert sleeps.delays == [3.0] * 5


def test_429_without_retry_after_waits_at_least_one_token_of_the_plan(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(THROTTLED, OK))

    async def main() -> None:
        async with api.client(sleep=sleeps, rate_per_minute=5) as client:
            await chain(client)

    run_fake_time(main())
    assert sleeps.delays[0] >= 12.0


@pytest.mark.parametrize("concurrent", [True, False], ids=["gathered", "sequential"])
def test_limiter_paces_n_requests_at_5_per_minute(concurrent: bool) -> None:
    api = FakeApi(sequence(OK))
    n = 12

    async def main() -> float:
        async with api.client(rate_per_minute=5) as client:
            start = now()
            if concurrent:
                await asyncio.gather(*(chain(client) for _ in range(n)))
            else:
                for _ in range(n):
                    await chain(client)
            assert client.stats.pacing_wait_seconds > 0
            return now() - start

    elapsed = run_fake_time(main())
    assert elapsed == pytest.approx((n - 5) / 5 * 60, abs=0.5)  # a burst of 5, then one every 12 s
    assert len(api.requests) == n


def test_clients_with_the_same_rate_share_one_bucket() -> None:
    api = FakeApi(sequence(OK))

    async def main() -> tuple[float, float]:
        one, two = api.client(rate_per_minute=5), api.client(rate_per_minute=5)
        other = api.client(rate_per_minute=600)
        assert shared_limiter(5) is shared_limiter(5) and shared_limiter(5) is not shared_limiter(600)
        start = now()
        for _ in range(5):
            await chain(one)
        for _ in range(5):  # the bucket is empty: client two waits although it made no request yet
            await chain(two)
        shared = now() - start
        start = now()
        await chain(other)  # another rate is another bucket
        for client in (one, two, other):
            await client.aclose()
        return shared, now() - start

    shared, other = run_fake_time(main())
    assert shared == pytest.approx(60.0, abs=0.5)
    assert other == pytest.approx(0.0, abs=0.01)


def timed_api(times: list[float]) -> FakeApi:
    """A fake API that notes the loop's clock at each request."""

    def handler(_: httpx.Request) -> httpx.Response:
        times.append(now())
        return respond(200, {"status": "OK", "request_id": "ok", "results": []})

    return FakeApi(handler)


def test_sequential_event_loops_share_one_bucket() -> None:
    """``smelt run``: each step is its own ``asyncio.run`` with its own client, one after another."""
    process, times = ProcessClock(), list[float]()
    api = timed_api(times)

    async def step() -> None:
        async with api.client(rate_per_minute=5) as client:
            for _ in range(5):
                await chain(client)

    for _ in range(3):
        process.run(step())

    assert sum(t < 1.0 for t in times) == 5  # one burst for the process, not one per loop
    assert times == pytest.approx([0.0] * 5 + [12.0 * n for n in range(1, 11)], abs=0.01)
    assert process.now == pytest.approx(120.0, abs=0.01)


def test_a_loop_whose_clock_restarts_gets_no_fresh_burst() -> None:
    """Loops with clocks of their own (each starts at 0 here): the bucket never refills early."""
    times: list[list[float]] = [[], [], []]

    for run in times:
        api = timed_api(run)

        async def step(api: FakeApi = api) -> None:
            async with api.client(rate_per_minute=5) as client:
                for _ in range(5):
                    await chain(client)

        run_fake_time(step())

    assert times[0] == pytest.approx([0.0] * 5, abs=0.01)
    for later in times[1:]:
        gaps = [b - a for a, b in zip([0.0, *later], later, strict=False)]
        assert all(gap >= 12.0 - 0.01 for gap in gaps), later  # every request waited for a token


def test_plain_asyncio_run_loops_see_the_level_the_last_one_left() -> None:
    """Default loops read ``time.monotonic()``: a new ``asyncio.run`` finds the previous burst spent."""
    api = FakeApi(sequence(OK))

    async def burst() -> None:
        async with api.client(rate_per_minute=5) as client:
            for _ in range(5):
                await chain(client)

    async def level() -> float:
        return shared_limiter(5).level(asyncio.get_running_loop().time())

    asyncio.run(burst())  # five requests at once, on the real clock
    assert asyncio.run(level()) > 4.9  # still spent in a new loop: a 6th request would wait ~12 s


def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    bucket = SharedBucket(5, 60)

    async def main() -> float:
        for _ in range(5):
            await bucket.acquire()
        waiter = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await bucket.acquire()  # takes the slot the cancelled waiter reserved
        return now()

    assert run_fake_time(main()) == pytest.approx(12.0, abs=0.01)


def test_loops_in_threads_share_the_bucket_without_losing_updates() -> None:
    bucket = SharedBucket(100_000, 1e9)  # no noticeable leak during the test; no waits
    errors: list[BaseException] = []

    async def take(n: int) -> None:
        for _ in range(n):
            await bucket.acquire()

    def worker() -> None:
        try:
            asyncio.run(take(2_000))
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert bucket.level(asyncio.run(_loop_time())) == pytest.approx(8_000, abs=0.01)


async def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def test_shared_bucket_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        SharedBucket(0, 60)
    with pytest.raises(ValueError, match="amount"):
        run_fake_time(SharedBucket(5, 60).acquire(6))


def test_an_explicit_limiter_replaces_the_shared_bucket() -> None:
    api = FakeApi(sequence(OK))
    own = SharedBucket(2, 10)  # 2 per 10 s

    async def main() -> float:
        async with api.client(rate_per_minute=5, limiter=own) as client:
            for _ in range(4):
                await chain(client)
        assert shared_limiter(5).level(now()) == 0  # the plan's bucket was not touched
        return now()

    assert run_fake_time(main()) == pytest.approx(10.0, abs=0.01)


def test_retried_attempts_consume_tokens() -> None:
    api = FakeApi(sequence(*[respond(429, content=b"", retry_after="0")] * 5, OK))

    async def main() -> float:
        async with api.client(rate_per_minute=5) as client:
            await chain(client)
            return now()

    assert run_fake_time(main()) == pytest.approx(12.0, abs=0.5)  # the 6th attempt waits for a token
    assert len(api.requests) == 6


def test_concurrency_is_bounded() -> None:
    in_flight, peak = 0, 0

    async def slow(_: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(1)
        in_flight -= 1
        return respond(200, {"status": "OK", "results": []})

    api = FakeApi(slow)

    async def main() -> float:
        async with api.client(max_concurrency=3) as client:
            await asyncio.gather(*(chain(client) for _ in range(9)))
            return now()

    assert run_fake_time(main()) == pytest.approx(3.0, abs=0.01)
    assert peak == 3


def test_invalid_pacing_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="rate_per_minute"):
        PolygonClient("https://api.polygon.io", None, rate_per_minute=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        PolygonClient("https://api.polygon.io", None, max_concurrency=0)
    with pytest.raises(ValueError, match="max_attempts"):
        PolygonClient("https://api.polygon.io", None, max_attempts=0)
