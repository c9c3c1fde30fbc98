"""Retries and pacing on a fake clock: nothing here sleeps for real."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random

import httpx
import pytest

from tests.polygon.support import FakeApi, RecordingSleep, drain, now, respond, run_fake_time, sequence
from workflows.polygon import (
    Backoff,
    Page,
    PolygonAuthError,
    PolygonClient,
    PolygonRateLimitError,
    shared_limiter,
)
from workflows.polygon.pacing import parse_retry_after

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
                assert client.stats.retries == 6 and client.stats.backoff_seconds == pytest.approx(
                    sum(sleeps.delays)
                )

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
    assert backoff.delay(1, retry_after=10_000) == 120.0


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


def test_retry_after_http_date_is_honoured_and_capped(sleeps: RecordingSleep) -> None:
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    api = FakeApi(
        sequence(respond(503, content=b"", retry_after=soon), respond(503, retry_after="86400"), OK)
    )

    async def main() -> None:
        async with api.client(sleep=sleeps, backoff=Backoff(retry_after_cap=120)) as client:
            await chain(client)

    run_fake_time(main())
    assert 27 <= sleeps.delays[0] <= 30  # second resolution of HTTP dates
    assert sleeps.delays[1] == 120  # a day is capped


def test_401_makes_exactly_one_request_and_no_retry(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(401, {"status": "ERROR", "error": "Unknown API Key"}), OK))

    async def main() -> None:
        async with api.client(sleep=sleeps) as client:
            with pytest.raises(PolygonAuthError, match="check POLYGON_API_KEY"):
                await chain(client)
            assert client.stats.requests == 1 and client.stats.retries == 0

    run_fake_time(main())
    assert len(api.requests) == 1 and sleeps.delays == []


def test_429_storm_then_success_completes(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(THROTTLED, THROTTLED, THROTTLED, THROTTLED, OK))

    async def main() -> None:
        async with api.client(sleep=sleeps) as client:
            [page] = await chain(client)
            assert page.retries == 4
            stats = client.stats
            assert (stats.requests, stats.retries, stats.throttled, stats.pages) == (5, 4, 4, 1)

    run_fake_time(main())
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
