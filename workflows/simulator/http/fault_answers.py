"""How an injected fault answers: the vendor's 429 and 5xx bodies, nginx's HTML 504, and mangled items.

Which fault a request gets is decided by ``workflows.simulator.faults`` (deterministic per seed and request);
this module only shapes the answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from workflows.simulator import rng
from workflows.simulator.faults import Faults
from workflows.simulator.http.replies import Raw
from workflows.simulator.http.responses import error_response, json_response
from workflows.simulator.http.state import Simulator

RATE_LIMITED = (
    "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."
)
NGINX_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_5XX = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
S_FIELDS = 42


def refusal(kind: str | None, faults: Faults, sim: Simulator, request_key: str, rid: str) -> Response | None:
    """The answer of a fault that replaces the handler's (429, 5xx, HTML 504), counted; else None."""
    if kind == "rate_429":
        sim.stats.faults["rate_429"] += 1
        headers = {} if faults.retry_after is None else {"Retry-After": f"{faults.retry_after:g}"}
        if faults.empty_429:
            return Response(b"", 429, headers={"X-Request-Id": rid, **headers})
        return json_response({"status": "ERROR", "request_id": rid, "error": RATE_LIMITED}, 429, rid, headers)
    if kind == "error_5xx":
        sim.stats.faults["error_5xx"] += 1
        status = sim.plan.pick(request_key, tuple(_5XX))
        return error_response(status, rid, _5XX[status])
    if kind == "html_504":
        sim.stats.faults["html_504"] += 1
        return Response(NGINX_504, 504, headers={"X-Request-Id": rid}, media_type="text/html")
    return None


def _retype(value: Any, kind: str) -> Any:
    if kind == "null":
        return None
    if kind == "str":
        return str(value)
    try:
        if kind == "int":
            return int(float(value))
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        return value
    return bool(value)


def _mangle(item: Any, drop: set[str], retype: dict[str, str]) -> Any:
    if isinstance(item, dict):
        return {
            k: _retype(_mangle(v, drop, retype), retype[k]) if k in retype else _mangle(v, drop, retype)
            for k, v in item.items()
            if k not in drop
        }
    return item


def apply_field_faults(body: Any, faults: Faults, seed: int, key: str) -> bool:
    results = body.get("results") if isinstance(body, dict) else None
    if not results:
        return False
    drop, retype = set(faults.drop), dict(faults.retype)
    if isinstance(results, dict):
        body["results"] = _mangle(results, drop, retype)
        return True
    items = [orjson.loads(b) for b in results] if isinstance(results, Raw) else results
    share = rng.uniform(seed, S_FIELDS, rng.text_key(key), np.arange(len(items)))
    body["results"] = [
        _mangle(item, drop, retype) if s < faults.field_share else item
        for item, s in zip(items, share.tolist(), strict=True)
    ]
    return True
