"""Error bodies from the fixtures README become the right typed exceptions, retried only when it helps."""

from __future__ import annotations

import io

import httpx
import pytest

from tests.polygon.support import (
    NGINX_504,
    FakeApi,
    RecordingSleep,
    drain,
    error_body,
    respond,
    run_fake_time,
    sequence,
)
from workflows.polygon import (
    PolygonAuthError,
    PolygonError,
    PolygonNotFoundError,
    PolygonRateLimitError,
    PolygonRequestError,
    PolygonResponseError,
    PolygonServerError,
    PolygonTimeoutError,
    PolygonTransportError,
)

CHAIN = "/v3/snapshot/options/{underlying}"


def fail(
    api: FakeApi, api_key: str | None = "pk_TEST_key_for_errors_0123456789", **options: object
) -> PolygonError:
    """Run one chain-snapshot call that must fail; return the error."""

    async def main() -> None:
        async with api.client(api_key, **options) as client:
            await drain(client.option_chain_snapshot("SPY"))

    with pytest.raises(PolygonError) as info:
        run_fake_time(main())
    return info.value


def test_401_unknown_key_fails_at_once_with_what_to_do(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(401, content=error_body("401_unknown_key.json"))))
    err = fail(api, sleep=sleeps)
    assert type(err) is PolygonAuthError
    assert "Unknown API Key" in str(err) and "check POLYGON_API_KEY" in str(err)
    assert (err.endpoint, err.status_code, err.request_id, err.attempts) == (CHAIN, 401, "r401", 1)
    assert len(api.requests) == 1 and sleeps.delays == []


def test_401_without_a_key_says_to_set_it() -> None:
    api = FakeApi(sequence(respond(401, content=error_body("401_no_key.json"))))
    err = fail(api, api_key=None)
    assert isinstance(err, PolygonAuthError)
    assert "no API key was sent" in str(err) and "API Key was not provided" in str(err)
    assert "POLYGON_API_KEY" in str(err)
    assert "authorization" not in api.requests[0].headers
    assert len(api.requests) == 1


def test_403_uses_message_and_says_to_upgrade_or_reduce() -> None:
    api = FakeApi(sequence(respond(403, content=error_body("403_not_entitled.json"))))
    err = fail(api)
    assert isinstance(err, PolygonAuthError) and err.status_code == 403 and err.request_id == "r403"
    text = str(err)
    assert "not entitled" in text and CHAIN in text
    assert "upgrade the plan" in text and "reduce the request" in text
    assert len(api.requests) == 1


def test_404_is_not_found_and_not_retried() -> None:
    api = FakeApi(
        sequence(respond(404, {"status": "NOT_FOUND", "request_id": "r404", "message": "Not found"}))
    )
    err = fail(api)
    assert isinstance(err, PolygonNotFoundError) and err.request_id == "r404"
    assert len(api.requests) == 1


def test_400_is_a_request_error_and_not_retried() -> None:
    api = FakeApi(sequence(respond(400, {"status": "ERROR", "error": "limit must be <= 250"})))
    err = fail(api)
    assert isinstance(err, PolygonRequestError) and "limit must be <= 250" in str(err)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "response",
    [
        respond(429, content=error_body("429_rate_limited.json")),
        respond(429, content=b""),
    ],
    ids=["with-body", "empty-body"],
)
def test_429_retried_then_rate_limit_error(response: httpx.Response, sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(response))
    err = fail(api, sleep=sleeps, max_attempts=4)
    assert type(err) is PolygonRateLimitError
    assert err.attempts == 4 and len(api.requests) == 4 and len(sleeps.delays) == 3
    assert CHAIN in str(err) and "gave up after 4 attempts" in str(err)
    assert ("exceeded the maximum requests" in str(err)) == bool(response.content)
    assert "empty body" in str(err) or response.content


def test_nginx_504_html_is_a_server_error_with_its_title(sleeps: RecordingSleep) -> None:
    api = FakeApi(sequence(respond(504, content=NGINX_504, content_type="text/html")))
    err = fail(api, sleep=sleeps, max_attempts=3)
    assert type(err) is PolygonServerError and err.status_code == 504
    assert "504 Gateway Time-out (HTML page)" in str(err)
    assert len(api.requests) == 3


def test_504_then_success_recovers() -> None:
    api = FakeApi(sequence(respond(504, content=NGINX_504), respond(200, {"status": "OK", "results": []})))

    async def main() -> None:
        async with api.client() as client:
            [page] = await drain(client.option_chain_snapshot("SPY"))
            assert page.retries == 1

    run_fake_time(main())
    assert len(api.requests) == 2


def test_timeouts_and_connection_errors_are_retried_then_typed() -> None:
    api = FakeApi(sequence(httpx.ReadTimeout("read timed out")))
    err = fail(api, max_attempts=3)
    assert type(err) is PolygonTimeoutError and isinstance(err, PolygonTransportError)
    assert len(api.requests) == 3 and "no response within 30s" in str(err)

    api = FakeApi(sequence(httpx.ConnectError("connection refused")))
    err = fail(api, max_attempts=2)
    assert type(err) is PolygonTransportError and "ConnectError" in str(err)
    assert len(api.requests) == 2


def test_200_with_status_error_is_not_retried() -> None:
    api = FakeApi(sequence(respond(200, {"status": "ERROR", "request_id": "rx", "error": "internal"})))
    err = fail(api)
    assert type(err) is PolygonResponseError and "status ERROR: internal" in str(err)
    assert len(api.requests) == 1


def test_per_item_not_found_errors_are_kept_apart_and_logged(log_output: io.StringIO) -> None:
    missing = {"error": "NOT_FOUND", "message": "Ticker not found.", "ticker": "O:SPY990101C00001000"}
    good = {
        "details": {
            "ticker": "O:SPY240315C00500000",
            "contract_type": "call",
            "expiration_date": "2024-03-15",
            "strike_price": 500,
        }
    }
    body = {"status": "OK", "request_id": "r-items", "results": [good, missing, good]}
    api = FakeApi(sequence(respond(200, body)))

    async def main() -> None:
        async with api.client() as client:
            [page] = await drain(client.option_chain_snapshot("SPY"))
            assert page.items == [good, good]
            assert page.item_errors == [missing]

    run_fake_time(main())
    lines = [line for line in log_output.getvalue().splitlines() if "polygon.item_errors" in line]
    assert len(lines) == 1 and '"count":1' in lines[0] and "O:SPY990101C00001000" in lines[0]
