"""The load step: the day's manifests that the ledger lacks, each in one transaction or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from workflows import logs
from workflows.steps.errors import StepError, describe, retryable
from workflows.steps.resources import Resources
from workflows.warehouse import LoadError, LoadReport
from workflows.warehouse import load as load_day


def load(
    resources: Resources,
    day: dt.date,
    *,
    datasets: Sequence[str] | None = None,
    run_id: str | None = None,
) -> LoadReport:
    """Load every manifest of ``day`` (optionally of some datasets) that the warehouse ledger lacks."""
    with logs.bound(step="load", trade_date=day.isoformat(), run_id=run_id), load_failures(day):
        with resources.warehouse() as warehouse:
            report = load_day(warehouse, resources.lake, day, datasets)
        report.raise_for_failures()
        return report


@contextmanager
def load_failures(day: dt.date) -> Iterator[None]:
    """A failed load of ``day`` as one StepError that names the day and says whether a retry can help."""
    try:
        yield
    except LoadError as exc:  # the report's own message lists every failed manifest and its file
        raise StepError(f"load: {exc}", retryable=exc.retryable) from exc
    except Exception as exc:  # lock timeouts, S3 credentials, DDL: one message naming the day
        raise StepError(f"load {day}: {describe(exc)}", retryable=retryable(exc)) from exc
