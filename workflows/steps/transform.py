"""The transform step: the models up to the pricing inputs, the greeks step (computed IV and Greeks landed and
loaded as the ``option_greeks`` dataset), ``dbt build`` (incremental), then source freshness judged by what the
data in hand is expected to have; ``run_results.json`` is kept. Publishing the marts is the next step's job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from workflows import dbt_runner, logs
from workflows.freshness import judge
from workflows.lake import new_run_id
from workflows.steps.errors import StepError, describe
from workflows.steps.greeks import DATASET, compute_greeks
from workflows.steps.load import load_failures
from workflows.steps.resources import Resources
from workflows.warehouse import load as load_day

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
    resources: Resources, *, full_refresh: bool = False, select: str | None = None, run_id: str | None = None
) -> TransformReport:
    """``dbt build`` (incremental unless asked), then source freshness.

    A failed data test or model fails the step for good (exit 3): the same data fails again. Unit tests
    check SQL logic, not data: they run in CI (``make test``, tests/dbt), not in every production build.
    """
    started = time.perf_counter()
    settings, dbt = resources.settings, resources.dbt
    settings.dbt_project()  # before the Greeks: they are wasted if dbt cannot run
    with logs.bound(step="transform", run_id=run_id):
        if (
            not select
        ):  # the greeks step needs its inputs built; then everything is built once more, tests too
            _compute_greeks(resources, full_refresh)
        args = ["build", "--exclude-resource-type", "unit_test"]
        args += (["--full-refresh"] if full_refresh else []) + (["--select", select] if select else [])
        result = dbt.invoke(*args)
        if not result.success:
            failed = dbt_runner.failures(result)
            detail = "; ".join(failed) if failed else describe(result.exception or RuntimeError("unknown"))
            transient = not failed or any(marker in detail for marker in _TRANSIENT)
            raise StepError(f"transform: dbt build failed: {dbt.explain(detail)}", retryable=transient)
        results = dbt_runner.node_results(result)
        tests = sum(1 for r in results if r.node.resource_type in {"test", "unit_test"})
        freshness = dbt.invoke("source", "freshness")
        verdicts = judge(dbt_runner.node_results(freshness))
        for verdict in verdicts:
            if verdict.status == "warn":
                log.warning("source freshness", detail=verdict.message)
        failed = [v.message for v in verdicts if v.status == "error"]
        if failed or (not verdicts and not freshness.success):
            detail = "; ".join(failed) or describe(freshness.exception or RuntimeError("dbt gave no results"))
            raise StepError(f"transform: source freshness failed: {detail}", retryable=False)
        report = TransformReport(
            len(results) - tests,
            tests,
            round(time.perf_counter() - started, 1),
            settings.home / "dbt" / "target" / "run_results.json",
        )
        log.info("transform finished", nodes=report.models, tests=tests, seconds=report.seconds)
        return report


#: The models the greeks step reads: ``int_options__pricing_inputs`` and everything upstream of it.
GREEKS_INPUTS = "+int_options__pricing_inputs"


def _compute_greeks(resources: Resources, full_refresh: bool) -> None:
    """Build the pricing inputs, solve the rows that have no answer yet, land and load the answers.

    The warehouse is open only between the two dbt runs: on DuckDB, dbt needs the file to itself.
    """
    dbt = resources.dbt
    result = dbt.invoke("run", "--select", GREEKS_INPUTS, *(["--full-refresh"] if full_refresh else []))
    if not result.success:
        failed = dbt_runner.failures(result)
        detail = "; ".join(failed) if failed else describe(result.exception or RuntimeError("unknown"))
        raise StepError(f"transform: dbt run of the pricing inputs failed: {dbt.explain(detail)}",
                        retryable=not failed)  # fmt: skip
    with resources.warehouse() as warehouse:
        # answers get a run id of their own: a retried transform never collides with its first attempt
        report = compute_greeks(warehouse, resources.lake, new_run_id())
        for day in report.days:
            with load_failures(day):
                load_day(warehouse, resources.lake, day, [DATASET]).raise_for_failures()
