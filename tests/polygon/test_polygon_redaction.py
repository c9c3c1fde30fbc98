"""The API key never appears in a URL, a log line, an exception message or a repr."""

from __future__ import annotations

import io
import traceback
from typing import Any

import httpx
import pytest

from tests.polygon.support import NGINX_504, FakeApi, drain, respond, run_fake_time
from workflows.logs import get_logger
from workflows.polygon import PolygonClient, PolygonError

KEY = "pk_REDACTION_TEST_5f3c9e1a7b2d4c6e8f0a1b3c"


def echoing_api() -> FakeApi:
    """A hostile API: error bodies echo the Authorization header, next_urls carry the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        path = request.url.path
        if path.endswith("/AUTH"):
            return respond(401, {"status": "ERROR", "request_id": "r1", "error": f"Unknown API Key: {auth}"})
        if path.endswith("/DENY"):
            return respond(403, {"status": "NOT_AUTHORIZED", "message": f"not entitled for key {auth[7:]}"})
        if path.endswith("/SLOW"):
            return respond(504, content=NGINX_504 + auth.encode())
        if path.endswith("/BAD"):
            return respond(200, {"status": "OK", "request_id": auth, "results": [{"details": auth}]})
        if path.endswith("/TRUNC"):
            return respond(200, content=b'{"status":"OK","request_id":"' + auth.encode())
        if path.endswith("/EVIL"):
            return respond(
                200, {"status": "OK", "results": [], "next_url": f"https://evil.example/x?apiKey={KEY}"}
            )
        if "cursor" in request.url.params:
            return respond(200, {"status": "OK", "request_id": "p2", "results": []})
        next_url = f"https://api.massive.com/v3/snapshot/options/SPY?cursor=c2&apiKey={KEY}"
        return respond(200, {"status": "OK", "request_id": "p1", "results": [], "next_url": next_url})

    return FakeApi(handler)


def test_the_key_never_appears_anywhere(log_output: io.StringIO) -> None:
    api = echoing_api()
    texts: list[str] = []
    log = get_logger("test.redaction")

    async def main() -> None:
        async with PolygonClient(
            "https://api.polygon.io", KEY, transport=api.transport, max_attempts=2, sleep=_no_sleep
        ) as client:
            texts.extend([repr(client), str(vars(client))])
            pages = await drain(client.option_chain_snapshot("SPY"))
            texts.extend(repr(page) for page in pages)
            for underlying in ("AUTH", "DENY", "SLOW", "BAD", "TRUNC", "EVIL"):
                try:
                    await drain(client.option_chain_snapshot(underlying))
                except PolygonError as exc:
                    texts.extend(
                        [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
                    )
                    log.exception("call failed", underlying=underlying)
                else:
                    raise AssertionError(f"{underlying} should fail")

    run_fake_time(main())
    output = log_output.getvalue()
    assert "polygon.retry" in output and "call failed" in output  # the logs were captured
    assert "[REDACTED]" in output  # the echoed key reached a message and was scrubbed
    for text in [output, *texts, *api.urls]:
        assert KEY not in text
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in api.requests)
    assert len(texts) > 20


async def _no_sleep(_: float) -> None:
    return None


def test_page_and_error_reprs_hold_no_key(log_output: io.StringIO) -> None:
    api = FakeApi(lambda _: respond(401, {"status": "ERROR", "error": "Unknown API Key"}))
    caught: list[Any] = []

    async def main() -> None:
        async with PolygonClient("https://api.polygon.io", KEY, transport=api.transport) as client:
            try:
                await drain(client.aggregates("O:SPY240315C00500000", "2024-03-01", "2024-03-15"))
            except PolygonError as exc:
                caught.append(exc)

    run_fake_time(main())
    [exc] = caught
    assert KEY not in repr(exc) and KEY not in str(exc.__dict__) and KEY not in log_output.getvalue()


def test_the_request_a_lake_line_keeps_is_path_and_query_without_a_key() -> None:
    """`_meta.request` (what `smelt trace` and the provenance panel show): no host, no user info, no apiKey."""
    from workflows.polygon.urls import request_target

    url = f"https://user:{KEY}@api.polygon.io/v3/snapshot/options/SPY?cursor=abc&apiKey={KEY}&limit=250"
    assert request_target(url) == "/v3/snapshot/options/SPY?cursor=abc&limit=250"
    assert request_target("http://127.0.0.1:8700/v2/aggs/grouped/locale/us/market/stocks/2026-11-27") == (
        "/v2/aggs/grouped/locale/us/market/stocks/2026-11-27"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.polygon.io/v3/x?cursor=c2&apiKey={KEY}",
        f"https://api.polygon.io/v3/x?APIKEY={KEY}&limit=1",
        f"https://api.polygon.io/v3/x?api_key={KEY}",
        f"https://api.polygon.io/v3/x?%61pi%4Bey={KEY}",  # the name hidden in percent-escapes
        f"https://user:{KEY}@127.0.0.1:8700/v3/x",
        f"http://{KEY}@127.0.0.1:8700/v3/x",
    ],
)
def test_a_url_that_carries_a_key_in_any_spelling_is_stripped(url: str) -> None:
    """A URL skips the parse only when it cannot carry credentials (decision 122): every form is still caught."""
    from workflows.polygon.urls import strip_credentials

    assert KEY not in strip_credentials(url)


def test_a_url_without_credentials_comes_back_unchanged_and_unparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's own host has ``api`` in it: only the query is searched for a key's name."""
    from workflows.polygon import urls

    url = "https://api.polygon.io/v3/snapshot/options/SPY?cursor=YXA6MTA&limit=250"
    monkeypatch.setattr(urls.httpx, "URL", None)  # a parse would fail
    assert urls.strip_credentials(url) == url
