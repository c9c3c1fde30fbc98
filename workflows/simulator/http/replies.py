"""What a handler returns: a body (maybe of items already in JSON) and whether it is a page of a list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Raw(list[bytes]):
    """Result items that are already JSON (a page of a cached chain)."""


@dataclass
class Reply:
    body: Any
    paged: bool = False  # a list endpoint, where the next_url loop fault applies
    status: int = 200
