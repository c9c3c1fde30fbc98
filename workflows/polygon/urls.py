"""URL hygiene: path parts encoded once, credentials never carried in a URL, pages compared for loops."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import httpx

from workflows.logs import add_secrets, get_logger

log = get_logger("smelt.polygon")

#: Query parameters that carry an API key in Polygon's legacy URL auth; the client never sends them.
KEY_PARAMS = frozenset({"apikey", "api_key"})

#: What a query must contain to carry a key: a key parameter's name has ``api`` in some case, or hides it in
#: percent-escapes. A URL without that and without ``@`` (user info) is returned as it is, unparsed.
_MAY_CARRY_KEY = re.compile(r"api|%", re.IGNORECASE)


def path_part(value: str | int | dt.date) -> str:
    """One path segment, percent-encoded; ``:`` stays literal as in ``O:AAPL230616C00150000``."""
    if isinstance(value, dt.datetime):
        raise TypeError(f"expected a date, not a datetime: {value!r}")
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if text in {"", ".", ".."}:
        raise ValueError(f"invalid path part {text!r}")
    return quote(text, safe=":")


def fill(template: str, **parts: str | int | dt.date) -> str:
    """``fill("/v3/snapshot/options/{underlying}", underlying="SPY")`` with every part encoded."""
    return template.format_map({name: path_part(value) for name, value in parts.items()})


def strip_credentials(url: str) -> str:
    """Drop ``apiKey``-style parameters and user info from ``url``; the dropped values become secrets.

    A key embedded in a ``next_url`` is never used (auth is the client's own header) and never logged. Every
    page's URL passes here; most cannot carry credentials and skip the parse (decision 122).
    """
    if "@" not in url and not _MAY_CARRY_KEY.search(url.partition("?")[2]):
        return url
    parsed = httpx.URL(url)
    dropped = [value for name, value in parsed.params.multi_items() if name.lower() in KEY_PARAMS]
    if parsed.userinfo:
        dropped.extend(part for part in parsed.userinfo.decode("utf-8", "replace").split(":") if part)
    if not dropped:
        return url
    add_secrets(dropped)
    log.warning("polygon.url_credentials_dropped", host=parsed.host, path=parsed.path, count=len(dropped))
    kept = [(name, value) for name, value in parsed.params.multi_items() if name.lower() not in KEY_PARAMS]
    return str(parsed.copy_with(userinfo=b"", params=kept))


def request_target(url: str) -> str:
    """The path and query of a requested URL (no scheme, host or credentials): what the lake keeps per line.

    The host is the deployment's (an egress proxy, the simulator's port), not the data's; the query is what
    makes the request reproducible (``date``, ``as_of``, the page's ``cursor``).
    """
    parsed = httpx.URL(strip_credentials(url))
    query = parsed.query.decode("ascii", "replace")
    return f"{parsed.path}?{query}" if query else parsed.path


def page_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What makes two page URLs the same page: path and sorted query, whatever the host."""
    parsed = httpx.URL(url)
    return parsed.path, tuple(sorted(parsed.params.multi_items()))
