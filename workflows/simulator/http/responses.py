"""Bodies onto the wire: JSON with the request id header, errors in the API's two shapes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from workflows.simulator.http.replies import Raw

JSON = "application/json"


def json_response(body: Any, status: int, request_id: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, headers={"X-Request-Id": request_id, **(headers or {})}, media_type=JSON
    )


def error_response(status: int, request_id: str, message: str) -> Response:
    """404 as ``NOT_FOUND`` with a ``message``, anything else as ``ERROR`` with an ``error``, as the API does."""
    if status == 404:
        body = {"status": "NOT_FOUND", "request_id": request_id, "message": message}
        return json_response(body, 404, request_id)
    return json_response({"status": "ERROR", "request_id": request_id, "error": message}, status, request_id)


def encode(body: Any) -> bytes:
    """The body as JSON; items that are already JSON (``Raw``) are spliced in, not parsed again."""
    if isinstance(body, dict) and isinstance(body.get("results"), Raw):
        body = {**body, "results": orjson.Fragment(b"[" + b",".join(body["results"]) + b"]")}
    return orjson.dumps(body)
