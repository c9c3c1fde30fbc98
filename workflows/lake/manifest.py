"""A manifest: the list of one unit's parts (rows, bytes, sha256), and its JSON form in the lake.

A part that no manifest names does not exist for the loader, so the manifest is the unit of visibility.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from workflows.lake.errors import LakeError
from workflows.lake.keys import manifest_key

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class PartInfo:
    key: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    dataset: str
    trade_date: dt.date
    underlying: str | None
    run_id: str
    source: str
    created_at: str
    parts: tuple[PartInfo, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @property
    def key(self) -> str:
        return manifest_key(self.dataset, self.trade_date, self.underlying, self.run_id)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.parts)

    def to_json(self) -> builtins.bytes:
        body = asdict(self)
        body["trade_date"] = self.trade_date.isoformat()
        body["rows"], body["bytes"] = self.rows, self.bytes
        return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: builtins.bytes, key: str) -> Manifest:
        try:
            body = orjson.loads(raw)
            return cls(
                dataset=body["dataset"],
                trade_date=dt.date.fromisoformat(body["trade_date"]),
                underlying=body.get("underlying"),
                run_id=body["run_id"],
                source=body["source"],
                created_at=body["created_at"],
                parts=tuple(PartInfo(**p) for p in body["parts"]),
                stats=body.get("stats", {}),
                version=body.get("version", MANIFEST_VERSION),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LakeError(f"manifest {key} is unreadable: {exc}") from exc
