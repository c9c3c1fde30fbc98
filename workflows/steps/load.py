"""The load step: the day's manifests that the ledger lacks, each in one transaction or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from workflows import logs
from workflows.lake import Lake
from workflows.settings import Settings
from workflows.steps.errors import StepError, describe, retryable
from workflows.warehouse import LoadError, LoadReport, open_warehouse
from workflows.warehouse import load as load_day


def load(
    settings: Settings, day: dt.date, *, datasets: Sequence[str] | None = None, run_id: str | None = None
) -> LoadReport:
    """Load every manifest of ``day`` (optionally of some datasets) that the warehouse ledger lacks."""
    with logs.bound(step="load", trade_date=day.isoformat(), run_id=run_id):
        try:
            lake = Lake.open(settings.lake, settings.s3_endpoint_url)
            with open_warehouse(settings) as warehouse:
                report = load_day(warehouse, lake, day, datasets)
            report.raise_for_failures()
        except LoadError as exc:  # the report's own message lists every failed manifest and its file
            raise StepError(f"load: {exc}", retryable=exc.retryable) from exc
        except Exception as exc:  # lock timeouts, S3 credentials, DDL: one message naming the day
            raise StepError(f"load {day}: {describe(exc)}", retryable=retryable(exc)) from exc
        return report
