"""One request as a handler sees it: parameters (from the query or a cursor), the simulated day, paging.

``next_url`` is absolute, built from the incoming request's base URL so it works in server mode and
in-process, and carries only an opaque cursor (the query plus the pinned "now" and the offset): never the
API key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from workflows.calendar import NEW_YORK
from workflows.simulator import clock
from workflows.simulator.headers import NOW_HEADER
from workflows.simulator.http.params import ApiError, parse_date
from workflows.simulator.http.replies import Reply
from workflows.simulator.http.requests import base_url
from workflows.simulator.http.state import Simulator
from workflows.simulator.market import EPOCH


@dataclass
class Ctx:
    request: Request
    sim: Simulator
    params: dict[str, str]
    offset: int
    now: dt.datetime
    request_id: str

    @property
    def day(self) -> dt.date:
        """The session whose end-of-day data this request sees (pinned by a cursor, else from "now")."""
        if "_now" in self.params:
            return parse_date(self.params["_now"], "cursor")
        try:
            day = clock.market_day(self.now)
        except Exception:
            raise ApiError(400, f"simulated now {self.now.isoformat()} is beyond the NYSE calendar") from None
        if day < EPOCH:
            raise ApiError(400, f"simulated now {self.now.isoformat()} is before the first day {EPOCH}")
        return day

    @property
    def snapshot_day(self) -> dt.date:
        """The session a chain snapshot shows: like the vendor's, only the latest one at the server's own
        clock (the app's "now", else the real time), whatever "now" the request claims; with
        ``snapshot_history`` (tests, demos of old behaviour) the request's day instead."""
        if "_now" in self.params or self.sim.snapshot_history:
            return self.day
        state_now = self.request.app.state.now
        return clock.market_day(state_now if state_now is not None else clock.default_now())

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(NEW_YORK).date()

    def pin(self, **values: str) -> None:
        self.params.update(values)

    def next_url(self, offset: int) -> str:
        payload = orjson.dumps({"q": self.params, "o": offset}, option=orjson.OPT_SORT_KEYS)
        cursor = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        return f"{base_url(self.request)}{self.request.url.path}?cursor={cursor}"


def decode_cursor(cursor: str) -> tuple[dict[str, str], int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        params, offset = data["q"], int(data["o"])
        if not isinstance(params, dict) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(400, "invalid cursor") from None
    return {str(k): str(v) for k, v in params.items()}, offset


def read_context(request: Request, sim: Simulator, rid: str) -> Ctx:
    """The request's "now" (header, else the app's clock, else the real time) and its parameters."""
    header = request.headers.get(NOW_HEADER)
    try:
        if header:
            now = clock.parse_now(header)
        elif request.app.state.now is not None:
            now = clock.parse_now(request.app.state.now)
        else:
            now = clock.default_now()
    except clock.ClockError as exc:
        raise ApiError(400, f"{NOW_HEADER}: {exc}") from None
    local = now.astimezone(NEW_YORK).date()
    if not EPOCH <= local <= sim.market.last_day:
        raise ApiError(400, f"simulated now {local} is outside {EPOCH}..{sim.market.last_day}")
    cursor = request.query_params.get("cursor")
    if cursor:
        params, offset = decode_cursor(cursor)
    else:
        skip = ("apiKey", "cursor")
        params, offset = {k: v for k, v in request.query_params.items() if k not in skip}, 0
    return Ctx(request, sim, params, offset, now, rid)


def paginate(ctx: Ctx, total: int, limit: int) -> tuple[slice, str | None]:
    stop = min(ctx.offset + limit, total)
    return slice(ctx.offset, stop), (ctx.next_url(stop) if stop < total else None)


def listed(ctx: Ctx, results: list[dict[str, Any]], next_url: str | None) -> Reply:
    """A page of a v3-style list endpoint: results, status, request_id and the next page's link."""
    body: dict[str, Any] = {"results": results, "status": "OK", "request_id": ctx.request_id}
    if next_url:
        body["next_url"] = next_url
    return Reply(body, paged=True)
