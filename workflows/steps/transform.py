"""The transform step: the models up to the pricing inputs, the greeks step (computed IV and Greeks landed and
loaded as the ``option_greeks`` dataset), ``dbt build`` (incremental), then source freshness judged from the load
ledger by what the data in hand is expected to have; ``run_results.json`` and ``freshness.json`` are kept for the
publish's build summary. Publishing the marts is the next step's job.

A day costs what the day holds: the build runs only when the ledger holds loads the last successful build did
not take (its watermark, ``staging.smelt_watermarks``), and its data tests read only those loads' trading days
(the ``smelt_test_days`` var, applied by the project's ``get_where_subquery``). The whole-table tests run in
``--full-validation`` (weekly). With nothing new there is no dbt invocation at all: freshness is judged from
the ledger, as after every build (decision 123). docs/architecture.md (decisions 75-78) says which test runs where.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

from workflows import dbt_runner, logs
from workflows.freshness import Verdict, as_records, judge_ledger, rules
from workflows.lake import DATASETS, new_run_id
from workflows.steps.errors import StepError, describe
from workflows.steps.greeks import DATASET, compute_greeks
from workflows.steps.load import load_failures
from workflows.steps.resources import Resources
from workflows.warehouse import LEDGER, Warehouse
from workflows.warehouse import load as load_day
from workflows.warehouse.increment import increment_since
from workflows.warehouse.watermark import read_watermark, write_watermark

log = logs.get_logger("smelt.steps")

#: dbt messages of failures that another attempt may not meet (a lock held by another step, a dropped link).
_TRANSIENT = ("Could not set lock", "Connection", "timed out", "temporarily unavailable")

#: The watermark's name in ``staging.smelt_watermarks`` (a publish keeps its own).
CONSUMER = "transform"

#: The datasets whose loads call for a build. The computed Greeks are loaded by the transform itself, inside
#: the build they belong to: counting them would make every build call for one more.
TRIGGERS = tuple(d for d in DATASETS if d != DATASET)

#: The dbt var that scopes the data tests to trading days (dbt/macros/scoped_tests.sql).
TEST_DAYS_VAR = "smelt_test_days"
#: ... and to the rows written since the transform started (UTC, like dbt's ``run_started_at``).
TEST_SINCE_VAR = "smelt_test_since"


@dataclass
class TransformReport:
    models: int
    tests: int
    seconds: float
    run_results: Path | None  # None when nothing was built
    #: The trading days the daily build tested (empty: nothing new, or whole tables were tested).
    days: tuple[dt.date, ...] = ()
    built: bool = True
    scope: str = "increment"  # increment, full-validation, full-refresh, select, or nothing-new


def transform(
    resources: Resources,
    *,
    full_refresh: bool = False,
    full_validation: bool = False,
    select: str | None = None,
    run_id: str | None = None,
) -> TransformReport:
    """``dbt build`` of what the ledger holds beyond the watermark (incremental unless asked), then freshness.

    A failed data test or model fails the step for good (exit 3): the same data fails again, and the
    watermark stays, so the next run redoes the same days. Unit tests check SQL logic, not data: they run in
    CI (``make test``, tests/dbt), not in every production build.
    """
    started, since_utc = time.perf_counter(), dt.datetime.now(dt.UTC).replace(tzinfo=None)
    settings, dbt = resources.settings, resources.dbt
    project = settings.dbt_project()  # before the Greeks: they are wasted if dbt cannot run
    scope = "full-refresh" if full_refresh else "full-validation" if full_validation else "select" if select else "increment"  # fmt: skip
    with logs.bound(step="transform", run_id=run_id):
        with resources.warehouse() as warehouse:
            since = None if full_refresh else read_watermark(warehouse, CONSUMER)
            increment = increment_since(warehouse, since, TRIGGERS)
            days = set(increment.days) | _unstaged_days(warehouse)
            if not days and scope == "increment":
                _judge_freshness(_ledger_verdicts(warehouse, project), settings.home)
                report = TransformReport(
                    0, 0, round(time.perf_counter() - started, 1), None, (), False, "nothing-new"
                )
                log.info(
                    "transform: nothing new since the last build",
                    watermark=str(since),
                    seconds=report.seconds,
                )
                return report
        # the greeks step needs its inputs built; then everything is built once more, tests too
        if not select:
            days |= set(_compute_greeks(resources, full_refresh, _scoped_vars(days, since_utc, scope)))
        args = ["build", "--exclude-resource-type", "unit_test"]
        args += (["--full-refresh"] if full_refresh else []) + (["--select", select] if select else [])
        tested = tuple(sorted(days)) if scope == "increment" else ()
        result = dbt.invoke(*args, *_scoped_vars(days, since_utc, scope))
        if not result.success:
            failed = dbt_runner.failures(result)
            detail = "; ".join(failed) if failed else describe(result.exception or RuntimeError("unknown"))
            transient = not failed or any(marker in detail for marker in _TRANSIENT)
            raise StepError(f"transform: dbt build failed: {dbt.explain(detail)}", retryable=transient)
        results = dbt_runner.node_results(result)
        tests = sum(1 for r in results if r.node.resource_type in {"test", "unit_test"})
        with resources.warehouse() as warehouse:
            if (
                not select and increment.watermark is not None
            ):  # a partial build leaves the watermark where it is
                write_watermark(warehouse, CONSUMER, increment.watermark)
            verdicts = _ledger_verdicts(warehouse, project)
        _judge_freshness(verdicts, settings.home)
        report = TransformReport(
            len(results) - tests,
            tests,
            round(time.perf_counter() - started, 1),
            settings.home / "dbt" / "target" / "run_results.json",
            tested,
            True,
            scope,
        )
        log.info("transform finished", nodes=report.models, tests=tests, days=len(tested), scope=scope,
                 seconds=report.seconds)  # fmt: skip
        return report


def _scoped_vars(days: set[dt.date], since_utc: dt.datetime, scope: str) -> list[str]:
    """``--vars`` scoping the data tests to ``days`` (an increment only). Both dbt invocations of a transform
    pass the same vars when the greeks add no day: dbt re-parses the whole project whenever they change, and
    that is seconds of each invocation's start-up."""
    if scope != "increment" or not days:
        return []
    scoped = {TEST_DAYS_VAR: [d.isoformat() for d in sorted(days)], TEST_SINCE_VAR: since_utc.isoformat(" ")}
    return ["--vars", json.dumps(scoped)]


def _unstaged_days(warehouse: Warehouse) -> set[dt.date]:
    """Days of ledger keys that staging has not taken yet, whatever their ``loaded_at``: a load stamped before
    the watermark that committed after the last build read the ledger (possible on Snowflake, where loads run
    beside a build) is still built and tested. Costs what the ledger holds."""
    staged = "staging.stg_polygon__smelt_loads"
    exists = warehouse.fetch(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE lower(table_schema) = 'staging' AND lower(table_name) = 'stg_polygon__smelt_loads'"
    )
    if not (exists and exists[0][0]):
        return set()
    names = ", ".join(f"'{d}'" for d in TRIGGERS)
    rows = warehouse.fetch(
        f"SELECT DISTINCT l.trade_date FROM {LEDGER} AS l WHERE l.dataset IN ({names}) AND NOT EXISTS "
        f"(SELECT 1 FROM {staged} AS s WHERE s.manifest_key = l.manifest_key)"
    )
    return {d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]) for (d,) in rows}


def _ledger_verdicts(warehouse: Warehouse, project: Path, now: dt.datetime | None = None) -> list[Verdict]:
    """Source freshness from the ledger's newest load per dataset, without invoking dbt."""
    newest = {
        str(dataset): at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        for dataset, at in warehouse.fetch(f"SELECT dataset, max(loaded_at) FROM {LEDGER} WHERE files > 0 GROUP BY dataset")
    }  # fmt: skip
    newest = {d: at if at.tzinfo else at.replace(tzinfo=dt.UTC) for d, at in newest.items()}
    return judge_ledger(rules(project), newest, now or dt.datetime.now(dt.UTC))


#: Where the transform keeps its freshness verdicts for the publish's build summary, beside dbt's run_results.
FRESHNESS_FILE = Path("dbt", "target", "freshness.json")


def _judge_freshness(verdicts: list[Verdict], home: Path) -> None:
    """Log the warnings, keep the verdicts for the build summary, fail the step on an error."""
    path = home / FRESHNESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_records(verdicts, dt.datetime.now(dt.UTC)), indent=1))
    for verdict in verdicts:
        if verdict.status == "warn":
            log.warning("source freshness", detail=verdict.message)
    failed = [v.message for v in verdicts if v.status == "error"]
    if failed:
        raise StepError(f"transform: source freshness failed: {'; '.join(failed)}", retryable=False)


#: The models the greeks step reads: ``int_options__pricing_inputs`` and everything upstream of it.
GREEKS_INPUTS = "+int_options__pricing_inputs"


def _compute_greeks(resources: Resources, full_refresh: bool, scoped: list[str]) -> tuple[dt.date, ...]:
    """Build the pricing inputs, solve the rows that have no answer yet, land and load the answers; the days
    answered, which the build then tests.

    The warehouse is open only between the two dbt runs: on DuckDB, dbt needs the file to itself.
    """
    dbt = resources.dbt
    # ``scoped``: the build's vars, which tests alone read, so that the build reuses this invocation's parse
    result = dbt.invoke(
        "run", "--select", GREEKS_INPUTS, *(["--full-refresh"] if full_refresh else []), *scoped
    )
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
    return tuple(report.days)
