"""``smelt trace``: the chain of custody of a mart row, from the number back to the request that fetched it."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer

from workflows.cli.shared import EXIT_PERMANENT, log, settings_or_exit


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
    from workflows.warehouse import open_warehouse

    settings = settings_or_exit()
    lake = Lake.open(settings.lake, settings.s3_endpoint_url)
    try:
        with open_warehouse(settings) as warehouse:
            found = follow(warehouse, lake, key, date.date())
    except TraceError as exc:
        log.error("trace: nothing to show", error=str(exc))
        raise typer.Exit(EXIT_PERMANENT) from None
    sys.stdout.write(json.dumps(found.as_dict(), indent=2) + "\n" if as_json else render(found))
