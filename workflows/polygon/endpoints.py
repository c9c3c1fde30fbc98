"""The endpoints the pipeline calls, and how a body becomes a :class:`Page`.

Every endpoint smelt calls is a list: ``{results: [...], next_url?}``. One table describes each endpoint so
the client code has no per-endpoint branches; parsing is a pure function of the bytes so tests can feed it
fixtures directly.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from workflows.logs import get_logger
from workflows.polygon import fastcheck
from workflows.polygon.errors import PolygonResponseError, PolygonSchemaError
from workflows.polygon.models import (
    Agg,
    GroupedAgg,
    OptionContract,
    OptionSnapshot,
    Page,
    StockDividend,
    StockSplit,
    TreasuryYield,
)
from workflows.polygon.urls import strip_credentials

log = get_logger("smelt.polygon")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A path template and the model of its items (every endpoint smelt calls lists them in ``results``)."""

    template: str
    model: type[BaseModel]

    @property
    def adapter(self) -> TypeAdapter[list[Any]]:
        return _adapter(self.model)


GROUPED_DAILY = Endpoint("/v2/aggs/grouped/locale/us/market/stocks/{date}", GroupedAgg)
AGGREGATES = Endpoint("/v2/aggs/ticker/{ticker}/range/1/day/{from}/{to}", Agg)
STOCK_SPLITS = Endpoint("/v3/reference/splits", StockSplit)
STOCK_DIVIDENDS = Endpoint("/v3/reference/dividends", StockDividend)
TREASURY_YIELDS = Endpoint("/fed/v1/treasury-yields", TreasuryYield)
OPTION_CONTRACTS = Endpoint("/v3/reference/options/contracts", OptionContract)
OPTION_CHAIN = Endpoint("/v3/snapshot/options/{underlying}", OptionSnapshot)

_adapters: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    if model not in _adapters:
        _adapters[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _adapters[model]


# Schema drift is reported once per (endpoint, set of unknown fields) per process: a new field appears
# on every item of every page, and one line is enough to notice it.
_drift_seen: set[tuple[str, frozenset[str]]] = set()


@functools.cache
def _known_fields(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """The keys a model declares, each with the model of its nested object (or list of objects)."""
    return {(info.alias or name): _nested_model(info.annotation) for name, info in model.model_fields.items()}


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        for inner in (candidate, *get_args(candidate)):  # X, X | None, list[X] | None
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


@functools.lru_cache(maxsize=4096)
def _shape(
    model: type[BaseModel], keys: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[tuple[str, type[BaseModel]], ...]]:
    """For an object with ``keys``: those ``model`` does not declare, and the declared ones holding objects.

    An API's items share a handful of key sets, so this is computed once per set, not once per item: the
    per-item walk was the largest Python cost of a whole-market options ingest after validation.
    """
    known = _known_fields(model)
    unknown = tuple(key for key in keys if key not in known)
    nested = tuple((key, inner) for key in keys if (inner := known.get(key)) is not None)
    return unknown, nested


def _extra_paths(item: dict[str, Any], model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the keys no model declares, e.g. ``greeks.rho`` (walks the raw dict: fast)."""
    unknown, nested = _shape(model, tuple(item))
    for key in unknown:
        yield prefix + key
    for key, inner in nested:
        value = item[key]
        for element in value if isinstance(value, list) else (value,):
            if isinstance(element, dict):
                yield from _extra_paths(element, inner, f"{prefix}{key}.")


def _report_drift(endpoint: Endpoint, items: list[dict[str, Any]], request_id: str | None) -> None:
    fields: set[str] = set()
    for item in items:
        fields.update(_extra_paths(item, endpoint.model))
    if not fields:
        return
    key = (endpoint.template, frozenset(fields))
    if key in _drift_seen:
        return
    _drift_seen.add(key)
    log.warning(
        "polygon.schema_drift",
        endpoint=endpoint.template,
        new_fields=sorted(fields),
        request_id=request_id,
        hint="kept verbatim in the lake; add them to workflows/polygon/models.py if the pipeline needs them",
    )


def is_item_error(item: Any) -> bool:
    """A per-item error inside a 200: ``{"error": "NOT_FOUND", "message": ..., "ticker": ...}``."""
    return isinstance(item, dict) and isinstance(item.get("error"), str)


def _schema_error(
    endpoint: Endpoint,
    message: str,
    request_id: str | None,
    *,
    field: str | None = None,
    index: int | None = None,
) -> PolygonSchemaError:
    return PolygonSchemaError(
        message,
        endpoint=endpoint.template,
        status_code=200,
        request_id=request_id,
        field=field,
        item_index=index,
    )


def _validate(endpoint: Endpoint, items: list[Any], positions: list[int], request_id: str | None) -> None:
    """Raise a clear schema error for the first bad item (pydantic names it), else report schema drift."""
    try:
        endpoint.adapter.validate_python(items)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        index = positions[loc[0]] if loc and isinstance(loc[0], int) and loc[0] < len(positions) else None
        field = ".".join(str(part) for part in loc[1:]) or "(item)"
        got = type(first.get("input")).__name__
        where = f"item {index} " if index is not None else ""
        raise _schema_error(
            endpoint,
            f"schema error in {endpoint.template}: {where}field {field!r}: {first['msg']} (got {got}); "
            f"{exc.error_count()} error(s) on this page",
            request_id,
            field=field,
            index=index,
        ) from None
    _report_drift(endpoint, items, request_id)


def _checked_items(
    endpoint: Endpoint, raw: list[Any], request_id: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The valid items and the per-item errors of a page's ``results``; a bad item raises a schema error.

    Most pages hold only valid items with no undeclared field: the msgspec mirror of the models says so
    quickly (decision 120). Any other page (an item error, a bad item, a new field) takes the pydantic path,
    whose errors name the item and field and which reports the drift.
    """
    if fastcheck.accepts(endpoint.model, raw):
        return raw, []
    items: list[dict[str, Any]] = []
    positions: list[int] = []
    errors: list[dict[str, Any]] = []
    for position, item in enumerate(raw):
        if is_item_error(item):
            errors.append(item)
        else:
            items.append(item)
            positions.append(position)
    _validate(endpoint, items, positions, request_id)
    return items, errors


def _decode(endpoint: Endpoint, content: bytes, request_id: str | None) -> Any:
    if not content.strip():
        raise PolygonResponseError(
            "empty body in a 200 response", endpoint=endpoint.template, status_code=200, request_id=request_id
        )
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        head = content[:60].decode("utf-8", "replace").strip()
        kind = (
            "an HTML page"
            if head.lower().startswith(("<!doctype", "<html"))
            else "truncated or malformed JSON"
        )
        raise PolygonResponseError(
            f"200 response with {kind} ({len(content)} bytes, {exc.msg} at char {exc.pos})",
            endpoint=endpoint.template,
            status_code=200,
            request_id=request_id,
        ) from None


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_page(
    endpoint: Endpoint,
    content: bytes,
    *,
    url: str,
    status_code: int = 200,
    header_request_id: str | None = None,
    fetched_at: str | None = None,
) -> Page:
    """Turn a 200 body into a :class:`Page`, or raise a typed error naming the endpoint and request_id.

    Missing ``results`` means no rows (a holiday, an empty chain). Items are validated but returned as the
    original dicts, so the lake gets exactly what the API sent.
    """
    body = _decode(endpoint, content, header_request_id)
    request_id = header_request_id
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]

    if not isinstance(body, dict):
        raise _schema_error(endpoint, f"expected a JSON object, got {type(body).__name__}", request_id)
    if str(body.get("status", "")).upper() == "ERROR":
        detail = body.get("error") or body.get("message") or "no detail"
        raise PolygonResponseError(
            f"the API answered 200 with status ERROR: {detail}",
            endpoint=endpoint.template,
            status_code=status_code,
            request_id=request_id,
            retryable=False,
        )
    raw = body.get("results")
    if raw is None:
        raw = []
    elif not isinstance(raw, list):
        raise _schema_error(
            endpoint, f"'results' should be an array, got {type(raw).__name__}", request_id, field="results"
        )

    items, errors = _checked_items(endpoint, raw, request_id)
    if errors:
        log.warning(
            "polygon.item_errors",
            endpoint=endpoint.template,
            request_id=request_id,
            count=len(errors),
            sample=[{k: e.get(k) for k in ("error", "message", "ticker")} for e in errors[:3]],
        )

    next_url = body.get("next_url")
    if next_url is not None and not isinstance(next_url, str):
        raise _schema_error(
            endpoint, f"'next_url' should be a string, got {type(next_url).__name__}", request_id
        )
    return Page(
        endpoint=endpoint.template,
        url=url,
        request_id=request_id,
        fetched_at=fetched_at or _now_iso(),
        items=items,
        item_errors=errors,
        status_code=status_code,
        next_url=strip_credentials(next_url) if next_url else None,
    )
