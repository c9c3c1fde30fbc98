"""next_url: followed (rebased onto a non-default base), auth re-added on every page, loops stopped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.polygon.support import CONTRACT, FAKE_KEY, FakeApi, drain, run_fake_time
from workflows.polygon import PolygonClient, PolygonPaginationError
from workflows.settings import load_settings


def pages_by_url(pages: dict[str, dict[str, Any]]) -> FakeApi:
    """Serve a body per full URL; the first page is served for any URL without a cursor."""

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url in pages:
            return httpx.Response(200, json=pages[url])
        if "cursor" not in request.url.params and "first" in pages:
            return httpx.Response(200, json=pages["first"])
        raise AssertionError(f"unexpected {url}")

    return FakeApi(handler)


def page(next_url: str | None, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "OK", "request_id": request_id, "results": [CONTRACT]}
    if next_url:
        body["next_url"] = next_url
    return body


def contracts(api: FakeApi, api_key: str | None = FAKE_KEY, **options: Any) -> list[Any]:
    async def main() -> list[Any]:
        async with api.client(api_key, **options) as client:
            return await drain(client.option_contracts("SPY"))

    return run_fake_time(main())


def test_next_url_to_another_host_is_followed_with_auth_and_headers_re_added() -> None:
    api = pages_by_url(
        {
            "first": page("https://api.massive.com/v3/reference/options/contracts?cursor=c2", "p1"),
            "https://api.massive.com/v3/reference/options/contracts?cursor=c2": page(
                "https://api.polygon.io/v3/reference/options/contracts?cursor=c3", "p2"
            ),
            "https://api.polygon.io/v3/reference/options/contracts?cursor=c3": page(None, "p3"),
        }
    )
    result = contracts(api, headers={"X-Sim-Now": "2024-01-02"})
    assert [p.request_id for p in result] == ["p1", "p2", "p3"]
    assert [r.url.host for r in api.requests] == ["api.polygon.io", "api.massive.com", "api.polygon.io"]
    for request in api.requests:
        assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
        assert request.headers["x-sim-now"] == "2024-01-02"
        assert FAKE_KEY not in str(request.url)
        assert "apikey" not in str(request.url).lower()
    assert result[1].next_url == "https://api.polygon.io/v3/reference/options/contracts?cursor=c3"


def test_next_url_to_the_same_page_is_a_loop() -> None:
    looping = "https://api.massive.com/v3/reference/options/contracts?cursor=again"
    api = pages_by_url({"first": page(looping, "p1"), looping: page(looping, "p2")})
    with pytest.raises(PolygonPaginationError, match="looping") as info:
        contracts(api)
    assert "cursor 'again'" in str(info.value) and info.value.request_id == "p2"
    assert len(api.requests) == 2


def test_a_cursor_repeated_on_another_host_is_a_loop() -> None:
    api = pages_by_url(
        {
            "first": page("https://api.massive.com/v3/reference/options/contracts?cursor=c2", "p1"),
            "https://api.massive.com/v3/reference/options/contracts?cursor=c2": page(
                "https://api.polygon.io/v3/reference/options/contracts?cursor=c2&limit=10", "p2"
            ),
        }
    )
    with pytest.raises(PolygonPaginationError, match="repeats an earlier page"):
        contracts(api)
    assert len(api.requests) == 2


def test_next_url_back_to_the_first_page_is_a_loop() -> None:
    first = "https://api.polygon.io/v3/reference/options/contracts?underlying_ticker=SPY&limit=1000"
    api = pages_by_url({"first": page("https://api.massive.com/v3/reference/options/contracts"
                                      "?limit=1000&underlying_ticker=SPY", "p1")})  # fmt: skip
    with pytest.raises(PolygonPaginationError, match="looping"):
        contracts(api)
    assert [str(r.url) for r in api.requests] == [first]


def test_a_key_embedded_in_next_url_is_never_sent() -> None:
    other_key = "someone-elses-key-98765"
    api = pages_by_url(
        {
            "first": page(
                f"https://api.massive.com/v3/reference/options/contracts?cursor=c2&apiKey={other_key}", "p1"
            ),
            "https://api.massive.com/v3/reference/options/contracts?cursor=c2": page(None, "p2"),
        }
    )
    result = contracts(api)
    assert len(result) == 2
    assert all(other_key not in url and FAKE_KEY not in url for url in api.urls)
    assert api.requests[1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert result[0].next_url is not None and other_key not in result[0].next_url


def test_the_key_is_not_sent_to_an_untrusted_host() -> None:
    api = pages_by_url(
        {"first": page("https://evil.example.com/v3/reference/options/contracts?cursor=c2", "p1")}
    )
    with pytest.raises(PolygonPaginationError, match=r"not a trusted API host.*refusing to send the API key"):
        contracts(api)
    assert [r.url.host for r in api.requests] == ["api.polygon.io"]


def test_trusted_hosts_and_keyless_clients_follow_any_host() -> None:
    bodies = {
        "first": page("https://mirror.example.com/v3/reference/options/contracts?cursor=c2", "p1"),
        "https://mirror.example.com/v3/reference/options/contracts?cursor=c2": page(None, "p2"),
    }
    assert len(contracts(pages_by_url(bodies), trusted_hosts=["mirror.example.com"])) == 2
    keyless = pages_by_url(bodies)
    assert len(contracts(keyless, api_key=None)) == 2
    assert all("authorization" not in r.headers for r in keyless.requests)


def test_a_plain_http_simulator_host_is_followed() -> None:
    api = pages_by_url(
        {
            "first": page("http://simulator.smelt.invalid/v3/reference/options/contracts?cursor=c2", "p1"),
            "http://simulator.smelt.invalid/v3/reference/options/contracts?cursor=c2": page(None, "p2"),
        }
    )
    result = contracts(api, base_url="http://simulator.smelt.invalid", headers={"X-Sim-Now": "2024-01-02"})
    assert [p.request_id for p in result] == ["p1", "p2"]
    assert all(r.headers["x-sim-now"] == "2024-01-02" for r in api.requests)


def test_extra_headers_cannot_carry_authorization() -> None:
    with pytest.raises(ValueError, match="api_key"):
        PolygonClient("https://api.polygon.io", None, headers={"authorization": "Bearer x"})


def test_from_settings_uses_the_plan_and_accepts_overrides() -> None:
    settings = load_settings(source="polygon", polygon_api_key=FAKE_KEY, polygon_max_concurrency=3)
    api = FakeApi(lambda _: httpx.Response(200, json={"status": "OK"}))
    client = PolygonClient.from_settings(
        settings, transport=api.transport, headers={"X-Sim-Now": "2024-01-02"}
    )
    assert client.rate_per_minute == 5 and client.base_url == "https://api.polygon.io"
    assert repr(client) == (
        "PolygonClient(base_url='https://api.polygon.io', auth='bearer', rate_per_minute=5, max_concurrency=3)"
    )
    sim = PolygonClient.from_settings(
        load_settings(), transport=api.transport, base_url="http://simulator.smelt.invalid", api_key=None
    )
    assert sim.rate_per_minute is None and sim.base_url == "http://simulator.smelt.invalid"

    async def main() -> None:
        async with client, sim:
            await drain(client.grouped_daily("2024-01-02"))
            await drain(sim.grouped_daily("2024-01-02"))

    run_fake_time(main())
    assert api.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert api.requests[0].headers["x-sim-now"] == "2024-01-02"
    assert "authorization" not in api.requests[1].headers
