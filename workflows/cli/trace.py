"""``smelt trace``: the chain of custody of a mart row, from the number back to the request that fetched it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.shared import EXIT_PERMANENT, log, settings_or_exit

if TYPE_CHECKING:
    from workflows.settings import Settings
    from workflows.warehouse.base import Warehouse


def trace(
    key: Annotated[str, typer.Argument(help="An option contract (O:SPY261224C00600000) or a stock ticker.")],
    date: Annotated[
        dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Trading day, YYYY-MM-DD.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document, for machines.")] = False,
) -> None:
    """Where a mart row came from: models, landing row, lake part and line, manifest, ledger, request."""
    from workflows.lake import Lake
    from workflows.trace import TraceError, render
    from workflows.trace import trace as follow

    settings = settings_or_exit()
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    try:
        with reading(settings) as warehouse:
            found = follow(warehouse, lake, key, date.date())
    except TraceError as exc:
        log.error("trace: nothing to show", error=str(exc))
        raise typer.Exit(EXIT_PERMANENT) from None
    sys.stdout.write(json.dumps(found.as_dict(), indent=2) + "\n" if as_json else render(found))


@contextlib.contextmanager
def reading(settings: Settings) -> Iterator[Warehouse]:
    """The warehouse for reading only: on DuckDB a read-only connection, which never takes the writer's lock
    from a running load or build (it waits like any reader); Snowflake as configured."""
    from workflows.warehouse import open_warehouse

    if settings.warehouse != "duckdb":
        with open_warehouse(settings) as warehouse:
            yield warehouse
        return
    import duckdb

    from workflows.trace import TraceError
    from workflows.warehouse.duckdb import DuckDBWarehouse

    if not settings.duckdb.path.exists():
        raise TraceError(f"no warehouse at {settings.duckdb.path}: run `smelt run` first")
    with duckdb.connect(str(settings.duckdb.path), read_only=True) as connection:
        yield DuckDBWarehouse(settings.duckdb.path, connection=connection)
