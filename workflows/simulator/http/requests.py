"""What a request says about itself: its identity (without the key), its base URL and its API key."""

from __future__ import annotations

from starlette.requests import Request


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def api_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.query_params.get("apiKey") or None


def request_key(request: Request) -> str:
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "apiKey")
    return request.method + " " + request.url.path + "?" + "&".join(f"{k}={v}" for k, v in query)


def self_url(request: Request) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "apiKey")
    return f"{base_url(request)}{request.url.path}" + (f"?{query}" if query else "")
