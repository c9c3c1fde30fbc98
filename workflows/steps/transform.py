"""The transform step: ``dbt build`` (incremental), then source freshness; ``run_results.json`` is kept."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from workflows import dbt_runner, logs
from workflows.settings import Settings
from workflows.steps.errors import StepError, describe
from workflows.warehouse import open_warehouse

log = logs.get_logger("smelt.steps")

#: dbt messages of failures that another attempt may not meet (a lock held by another step, a dropped link).
_TRANSIENT = ("Could not set lock", "Connection", "timed out", "temporarily unavailable")


@dataclass
class TransformReport:
    models: int
    tests: int
    seconds: float
    run_results: Path


def transform(
    settings: Settings, *, full_refresh: bool = False, select: str | None = None, run_id: str | None = None
) -> TransformReport:
    """``dbt build`` (incremental unless asked), then source freshness.

    A failed data test or model fails the step for good (exit 3): the same data fails again. Unit tests
    check SQL logic, not data: they run in CI (``make test``, tests/dbt), not in every production build.
    """
    started = time.perf_counter()
    warehouse = open_warehouse(settings)
    with logs.bound(step="transform", run_id=run_id):
        args = ["build", "--exclude-resource-type", "unit_test"]
        args += (["--full-refresh"] if full_refresh else []) + (["--select", select] if select else [])
        result = dbt_runner.invoke(settings, warehouse, *args)
        if not result.success:
            failed = dbt_runner.failures(result)
            detail = "; ".join(failed) if failed else describe(result.exception or RuntimeError("unknown"))
            transient = not failed or any(marker in detail for marker in _TRANSIENT)
            raise StepError(f"transform: dbt build failed: {warehouse.explain(detail)}", retryable=transient)
        results = dbt_runner.node_results(result)
        tests = sum(1 for r in results if r.node.resource_type in {"test", "unit_test"})
        freshness = dbt_runner.invoke(settings, warehouse, "source", "freshness")
        if not freshness.success:
            raise StepError(
                f"transform: source freshness failed: {'; '.join(dbt_runner.failures(freshness))}",
                retryable=False,
            )
        report = TransformReport(
            len(results) - tests,
            tests,
            round(time.perf_counter() - started, 1),
            settings.home / "dbt" / "target" / "run_results.json",
        )
        log.info("transform finished", nodes=report.models, tests=tests, seconds=report.seconds)
        return report
