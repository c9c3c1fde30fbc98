"""The dispatcher around every handler: request ids, auth, fault injection, ``next_url`` loops, encoding,
the counters, and the Starlette routes that lead to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workflows.simulator.faults import Faults, FaultsError
from workflows.simulator.headers import FAULTS_HEADER
from workflows.simulator.http.context import Ctx, read_context
from workflows.simulator.http.fault_answers import apply_field_faults, refusal
from workflows.simulator.http.params import ApiError
from workflows.simulator.http.replies import Reply
from workflows.simulator.http.requests import api_key, request_key, self_url
from workflows.simulator.http.responses import JSON, encode, error_response
from workflows.simulator.http.state import Simulator

Handler = Callable[..., Reply]


async def _dispatch(request: Request, handler: Handler, name: str) -> Response:
    sim: Simulator = request.app.state.sim
    sim.stats.requests += 1
    sim.stats.endpoints[name] += 1
    rid = sim.request_id(request)
    response = await _answer(request, sim, handler, rid)
    sim.stats.responses[response.status_code] += 1
    return response


async def _answer(request: Request, sim: Simulator, handler: Handler, rid: str) -> Response:
    key = api_key(request)
    if key is None:
        return error_response(401, rid, "API Key was not provided")
    if sim.api_key is not None and key != sim.api_key:
        return error_response(401, rid, "Unknown API Key")
    try:
        faults = Faults.parse(request.headers.get(FAULTS_HEADER, ""), sim.faults)
    except FaultsError as exc:
        return error_response(400, rid, f"{FAULTS_HEADER}: {exc}")
    if not faults.applies_to(request.url.path):
        faults = Faults()
    identity = request_key(request)
    kind = sim.plan.decide(faults, identity) if faults.active else None
    if faults.latency_ms:
        sim.stats.faults["latency"] += 1
        await asyncio.sleep(faults.latency_ms / 1000.0)
    if (refused := refusal(kind, faults, sim, identity, rid)) is not None:
        return refused

    try:
        ctx = read_context(request, sim, rid)
        reply = handler(ctx, **request.path_params)
    except ApiError as exc:
        return error_response(exc.status, rid, exc.message)
    body = reply.body
    if (faults.drop or faults.retype) and apply_field_faults(body, faults, sim.seed, identity):
        sim.stats.faults["fields"] += 1
    if faults.next_url_loop and reply.paged and isinstance(body, dict) and "next_url" not in body:
        body["next_url"] = self_url(request)
        sim.stats.faults["next_url_loop"] += 1
    content = encode(body)
    if kind == "truncate":
        sim.stats.faults["truncate"] += 1
        content = content[: max(1, len(content) // 2)]
    return Response(content, reply.status, headers={"X-Request-Id": rid}, media_type=JSON)


def not_found(ctx: Ctx, path: str) -> Reply:
    raise ApiError(404, f"The requested path /{path} was not found on this server")


def route(path: str, handler: Handler, name: str) -> Route:
    """A GET route through the dispatcher (the catch-all ``not_found`` answers every method)."""

    async def endpoint(request: Request) -> Response:
        return await _dispatch(request, handler, name)

    methods = None if name == "not_found" else ["GET"]
    return Route(path, endpoint, methods=methods, name=name)


async def stats(request: Request) -> Response:
    """``GET /_sim/stats``: the app's counters, without auth."""
    sim: Simulator = request.app.state.sim
    return Response(orjson.dumps(sim.stats.as_dict()), media_type=JSON)
