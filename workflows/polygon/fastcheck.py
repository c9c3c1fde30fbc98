"""A quick yes to "does this page hold what the models expect, and nothing more?", mirrored from the models.

pydantic's validation of each page, then a walk over every item for fields no model declares (schema drift),
were the largest part of the options ingest client's CPU (docs/benchmarks.md, decision 120). A
msgspec Struct per model, generated from the pydantic model so there is one schema, checks the same types in
strict mode in a seventh of the time and, with ``forbid_unknown_fields``, also refuses any undeclared field.
A page it accepts is valid and has no drift; a page it refuses takes the pydantic path, which says what is
wrong (or accepts it and reports the drift), so errors and warnings read exactly as before.

The mirror may refuse more than pydantic (an integer beyond 64 bits, a new field); that only costs the slow
path. It must never accept what pydantic refuses: ``tests/polygon/test_fastcheck.py`` holds it to that.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

import msgspec
from pydantic import BaseModel


@functools.cache
def mirror(model: type[BaseModel]) -> type[msgspec.Struct]:
    """The msgspec Struct checking what ``model`` declares, under the API's key names, and nothing else."""
    fields: list[tuple[str, Any, Any]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        spec = msgspec.field(name=key) if info.is_required() else msgspec.field(name=key, default=None)
        fields.append((name, _mirror_type(info.annotation), spec))
    return msgspec.defstruct(
        f"{model.__name__}Check", fields, kw_only=True, forbid_unknown_fields=True, module=__name__
    )


def _mirror_type(annotation: Any) -> Any:
    """``annotation`` with every pydantic model in it (``X``, ``X | None``, ``list[X]``) replaced by its mirror."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return mirror(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return functools.reduce(lambda a, b: a | b, (_mirror_type(arg) for arg in args))
    if origin is list:
        return list[_mirror_type(args[0])]  # type: ignore[misc]
    if origin is not None or annotation not in (str, int, float, bool, type(None)):
        raise TypeError(f"no msgspec mirror for the annotation {annotation!r}; extend _mirror_type")
    return annotation


@functools.cache
def _list_of(model: type[BaseModel]) -> Any:
    return list[mirror(model)]  # type: ignore[misc]


def accepts(model: type[BaseModel], items: list[Any]) -> bool:
    """True when every item is a valid ``model`` with no key the models do not declare (strict types)."""
    try:
        msgspec.convert(items, _list_of(model), strict=True)
    except msgspec.ValidationError:
        return False
    return True
