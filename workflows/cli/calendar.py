"""``smelt calendar …``: the NYSE calendar as the workflows ask it, answered as Argo output parameters.

The pipeline image runs these inside workflows; they need neither Hera nor the Kubernetes client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workflows import logs
from workflows.cli.shared import OutDir, bad_arguments, settings_or_exit, write_outputs

calendar_app = typer.Typer(help="The NYSE calendar, as the workflows ask it.", no_args_is_help=True)
log = logs.get_logger("smelt.argo")


@calendar_app.command("resolve")
def calendar_resolve(
    date: Annotated[str, typer.Option(help="YYYY-MM-DD, or auto: the session of --scheduled.")] = "auto",
    scheduled: Annotated[str, typer.Option(help="RFC 3339 time the run was due; empty: now.")] = "",
    out_dir: OutDir = Path("outputs"),
) -> None:
    """Resolve a run's trading day: writes trade-date, trading (true/false) and reason to --out-dir."""
    from workflows.argo import tradingday

    settings_or_exit()
    try:
        result = tradingday.resolve(date, scheduled or None)
    except tradingday.TradingDayError as exc:
        raise bad_arguments(f"calendar resolve: {exc}") from None
    trading = "true" if result.trading else "false"
    write_outputs(
        out_dir, **{"trade-date": result.trade_date.isoformat(), "trading": trading, "reason": result.reason}
    )
    event = "trading day resolved" if result.trading else "not a trading day: skipping the run"
    log.info(event, trade_date=result.trade_date.isoformat(), trading=result.trading, reason=result.reason)


@calendar_app.command("days")
def calendar_days(
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    out_dir: OutDir = Path("outputs"),
) -> None:
    """The trading days from --start to --end as a JSON list in --out-dir/days (a backfill's fan-out)."""
    from workflows.argo import tradingday

    settings_or_exit()
    try:
        sessions = tradingday.days(start, end)
    except tradingday.TradingDayError as exc:
        raise bad_arguments(f"calendar days: {exc}") from None
    write_outputs(out_dir, days=json.dumps([d.isoformat() for d in sessions]))
    log.info("trading days", start=start, end=end, days=len(sessions))
