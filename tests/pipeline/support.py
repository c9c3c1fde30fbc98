"""Shared pieces of the end-to-end tests: the range, the universe, mart fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import duckdb

from workflows.settings import Settings, load_settings

# Five sessions that include a holiday gap (Thanksgiving 2026) and an early close.
START, END = dt.date(2026, 11, 20), dt.date(2026, 11, 27)
UNDERLYINGS = ("AAPL", "SPY", "TSLA")
MARTS = (
    "mart_polygon__options_stocks_joined",
    "mart_stock_daily",
    "mart_option_chain",
    "mart_vol_surface",
    "mart_options_positioning",
)


def make_settings(home: Path, **overrides: Any) -> Settings:
    # the simulator replays each day's chain snapshot (the vendor-like default takes the backfill path for
    # past days: tests/pipeline/test_greeks_run.py), and its clock stands just after END's close, so no path
    # taken depends on today's date
    return load_settings(**{"home": home, "underlyings": UNDERLYINGS, "log_format": "json",
                            "sim_snapshot_history": True, "sim_now": END, **overrides})  # fmt: skip


#: The provenance columns that name a fetch (its lake line, request and load) rather than the data: two runs of
#: the same days land the same data through different requests, and a re-ingested day's provenance moves with it.
FETCH_LINEAGE = (
    "source_file", "source_row", "request_id", "request", "fetched_at", "loaded_at", "manifest_key", "manifest_sha256",
    "underlying_source_file", "underlying_source_row", "underlying_request_id", "underlying_request",
)  # fmt: skip
FETCH_COLUMNS = {"mart_option_provenance": FETCH_LINEAGE}


def mart_rows(
    settings: Settings, without: Collection[str] = (), *, fetches: bool = True
) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows in a stable order, leaving out the columns named in ``without`` (and, without
    ``fetches``, the columns that name a fetch: ``FETCH_COLUMNS``)."""
    out = {}
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]  # fmt: skip
        for name in names:
            columns = [r[0] for r in con.execute(f"describe marts.{name}").fetchall()]
            dropped = {*without, *(() if fetches else FETCH_COLUMNS.get(name, ()))}
            kept = ", ".join(f'"{c}"' for c in columns if c not in dropped)
            out[name] = sorted(con.execute(f"select {kept} from marts.{name}").fetchall(), key=repr)
    return out


def mart_fingerprints(settings: Settings) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every mart's contents, less the columns that name a fetch
    (the same data fetched again is the same marts)."""
    out = {}
    for name, rows in mart_rows(settings, fetches=False).items():
        digest = hashlib.sha256()
        for line in sorted(repr(r) for r in rows):
            digest.update(line.encode())
        out[name] = (len(rows), digest.hexdigest())
    return out
