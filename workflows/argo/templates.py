"""The WorkflowTemplates and the CronWorkflow, in Hera: what runs, in which order, with which limits.

Structure only: the deploy-time settings (the schedule, its time zone, the history the CronWorkflow keeps, the
universe) have one owner, the pipeline chart's values.yaml, which fills them in at install
(charts/pipeline/templates/_helpers.tpl, `pipeline.argo`). The rendered files leave them out.

Each step template lives in its own WorkflowTemplate, so it can be submitted alone (`argo submit --from
workflowtemplate/smelt-load -p trade-date=…`) and reused by reference: `smelt-daily` and `smelt-backfill`
call them through `templateRef`. Containers only run `smelt …` (see pod.py); nothing here computes data.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from hera.workflows import (
    DAG,
    Artifact,
    CronWorkflow,
    NoneArchiveStrategy,
    Parameter,
    Task,
    WorkflowTemplate,
)
from hera.workflows import models as m

from workflows.argo import pod
from workflows.argo.pod import Warehouse

DAILY, BACKFILL, VALIDATE = "smelt-daily", "smelt-backfill", "smelt-validate"
INGEST_STOCKS, INGEST_OPTIONS, INGEST_FLATFILES, LOAD, TRANSFORM, PUBLISH = (
    "smelt-ingest-stocks", "smelt-ingest-options", "smelt-ingest-flatfiles", "smelt-load", "smelt-transform",
    "smelt-publish",
)  # fmt: skip
VERSION_LABEL = "smelt.dev/version"
#: Underlyings ingested at once inside one run; the Polygon semaphore bounds all runs together.
OPTIONS_PARALLELISM = 5
#: Trading days a REST backfill runs at once (each a whole `smelt-daily` day).
BACKFILL_PARALLELISM = 3
#: Trading days a flat-file backfill ingests at once: where no chart sets `flatfiles.parallelism`, a value
#: two cores carry (the loads queue on DuckDB's write mutex anyway). The chart's template name for it:
FLATFILE_PARALLELISM, FLATFILE_DAYS = 2, "flatfile-days"
#: How a backfill gets its bars (`bars` parameter): a whole REST day each, or the vendor's flat files.
REST, FLATFILES = "rest", "flatfiles"

TRADE_DATE = "{{inputs.parameters.trade-date}}"
#: Every step of a run writes its manifests under the workflow's name: a retried step (or `argo retry`)
#: resumes past the units it already landed, so a retry never duplicates rows (steps/units.py).
RUN_ID = "{{workflow.name}}"


def _metadata(name: str, kind: str) -> dict[str, Any]:
    labels = {
        "app.kubernetes.io/part-of": "smelt",
        "app.kubernetes.io/component": kind,
        VERSION_LABEL: version("smelt"),
    }
    return {"name": name, "labels": labels}


def _workflow_defaults(entrypoint: str, deadline_hours: int) -> dict[str, Any]:
    """What every WorkflowTemplate's spec sets, so that a submitted run behaves the same from any entry."""
    return {
        "entrypoint": entrypoint,
        "service_account_name": pod.SERVICE_ACCOUNT,
        "active_deadline_seconds": deadline_hours * 3600,
        "pod_gc": m.PodGC(
            strategy="OnPodSuccess", delete_delay_duration="10m"
        ),  # failed pods stay to inspect
        "ttl_strategy": m.TTLStrategy(seconds_after_success=7 * 86400, seconds_after_failure=14 * 86400),
        "workflow_metadata": m.WorkflowMetadata(labels={"app.kubernetes.io/part-of": "smelt"}),
    }


def _trade_date_input() -> Parameter:
    return Parameter(name="trade-date", description="Trading day, YYYY-MM-DD.")


def ingest_stocks(warehouse: Warehouse) -> WorkflowTemplate:
    with WorkflowTemplate(
        **_metadata(INGEST_STOCKS, "ingest"),
        **_workflow_defaults("ingest-stocks", 2),
        arguments=[_trade_date_input()],
    ) as template:
        pod.step(
            "ingest-stocks",
            ["ingest", "stocks", "--date", TRADE_DATE, "--run-id", RUN_ID],
            warehouse=warehouse, size="ingest", inputs=[_trade_date_input()], calls_polygon=True,
        )  # fmt: skip
    return template


def ingest_options(warehouse: Warehouse) -> WorkflowTemplate:
    with WorkflowTemplate(
        **_metadata(INGEST_OPTIONS, "ingest"),
        **_workflow_defaults("ingest-options", 4),
        arguments=[_trade_date_input(), _underlyings()],
    ) as template:
        one = pod.step(
            "ingest-options-one",
            ["ingest", "options", "--date", TRADE_DATE, "--underlyings", "{{inputs.parameters.underlying}}",
             "--run-id", RUN_ID],
            warehouse=warehouse, size="ingest", calls_polygon=True,
            inputs=[_trade_date_input(), Parameter(name="underlying")],
            labels={pod.UNDERLYING_LABEL: "{{inputs.parameters.underlying}}"},
        )  # fmt: skip
        with DAG(
            name="ingest-options",
            inputs=[_trade_date_input(), _underlyings()],
            parallelism=OPTIONS_PARALLELISM,
        ):
            Task(
                name="underlying",
                template=one,
                with_param="{{inputs.parameters.underlyings}}",
                arguments={"trade-date": TRADE_DATE, "underlying": "{{item}}"},
            )
    return template


def ingest_flatfiles(warehouse: Warehouse) -> WorkflowTemplate:
    """One day's two flat-file objects (stocks and options day aggregates) into the lake, verbatim.

    Not under the Polygon semaphore: the objects come from the flat-file endpoint, not the rate-limited API;
    a backfill's fan-out parallelism bounds how many download at once.
    """
    with WorkflowTemplate(
        **_metadata(INGEST_FLATFILES, "ingest"),
        **_workflow_defaults("ingest-flatfiles", 2),
        arguments=[_trade_date_input()],
    ) as template:
        pod.step(
            "ingest-flatfiles",
            ["ingest", "flatfiles", "--start", TRADE_DATE, "--end", TRADE_DATE, "--run-id", RUN_ID],
            warehouse=warehouse, size="ingest", inputs=[_trade_date_input()], reads_flatfiles=True,
        )  # fmt: skip
    return template


def load(warehouse: Warehouse) -> WorkflowTemplate:
    with WorkflowTemplate(
        **_metadata(LOAD, "load"), **_workflow_defaults("load", 2), arguments=[_trade_date_input()]
    ) as template:
        pod.step(
            "load", ["load", "--date", TRADE_DATE, "--run-id", RUN_ID],
            warehouse=warehouse, size="load", inputs=[_trade_date_input()], writes_warehouse=True,
        )  # fmt: skip
    return template


def transform(warehouse: Warehouse) -> WorkflowTemplate:
    """dbt build, then source freshness (both inside `smelt transform`); run_results.json as an artifact.

    The artifact needs an artifact repository: the chart drops the output when none is configured.
    """
    with WorkflowTemplate(
        **_metadata(TRANSFORM, "transform"), **_workflow_defaults("transform", 3)
    ) as template:
        pod.step(
            "transform", ["transform", "--run-id", RUN_ID],
            warehouse=warehouse, size="transform", writes_warehouse=True, transforms=True, artifacts=[_run_results()],
        )  # fmt: skip
    return template


def _run_results() -> Artifact:
    return Artifact(name="run-results", path=pod.RUN_RESULTS, optional=True, archive=NoneArchiveStrategy())


def validate(warehouse: Warehouse) -> WorkflowTemplate:
    """`smelt-validate`: the whole-table dbt tests the daily build leaves out (it tests only its increment).

    It takes the transform mutex, so it never runs beside a daily or backfill transform, and the `runs`
    semaphore like every run (decision 37).
    """
    with WorkflowTemplate(
        **_metadata(VALIDATE, "validate"),
        **_workflow_defaults("validate", 6),
        synchronization=pod.run_limit(),
    ) as template:
        pod.step(
            "validate", ["transform", "--full-validation", "--run-id", RUN_ID],
            warehouse=warehouse, size="transform", writes_warehouse=True, transforms=True, artifacts=[_run_results()],
        )  # fmt: skip
    return template


def publish(warehouse: Warehouse) -> WorkflowTemplate:
    """The marts snapshot the dashboard reads (on Snowflake: the build summary), after the transform.

    A task of its own, so that a failed publish shows as such and is retried alone, not with the build.
    On DuckDB it opens the warehouse file, so it takes the write mutex like the steps that write it.
    """
    with WorkflowTemplate(**_metadata(PUBLISH, "publish"), **_workflow_defaults("publish", 1)) as template:
        pod.step(
            "publish", ["publish", "--run-id", RUN_ID],
            warehouse=warehouse, size="publish", writes_warehouse=True,
        )  # fmt: skip
    return template


def _underlyings() -> Parameter:
    """The universe as a JSON list; a workflow argument's value is the chart's (`universe`) or the submitter's."""
    return Parameter(
        name="underlyings", description='Option underlyings as a JSON list, e.g. ["SPY","AAPL"].'
    )


def _ref(template: str, name: str) -> m.TemplateRef:
    return m.TemplateRef(name=template, template=name)


def _report(warehouse: Warehouse, run: str, start: str, end: str) -> object:
    """The exit handler: logs the outcome, counts the rows this run landed, reads each step's times from the
    Workflow (as its own ServiceAccount), stores the run's report in the lake (one object per run: a retry
    overwrites it) and posts an alert when the release configured a webhook."""
    return pod.step(
        "report",
        ["argo", "report", "--workflow", "{{workflow.name}}", "--status", "{{workflow.status}}",
         "--failures", "{{workflow.failures}}", "--start", start, "--end", end, "--kind", run,
         "--started", "{{workflow.creationTimestamp}}", "--duration", "{{workflow.duration}}",
         "--out-dir", pod.OUTPUTS],
        warehouse=warehouse, size="report", posts_alerts=True, reads_workflow=True,
        outputs=[Parameter(name="rows", value_from=m.ValueFrom(path=f"{pod.OUTPUTS}/rows"))],
        metrics=[
            m.Prometheus(
                name="smelt_rows_landed",
                help="Raw rows a run landed in the lake (all datasets).",
                labels=[m.MetricLabel(key="run", value=run)],
                gauge=m.Gauge(value="{{outputs.parameters.rows}}", realtime=False),
            )
        ],
    )  # fmt: skip


def _day(warehouse: Warehouse) -> DAG:
    """One trading day: both ingests, then load, transform and publish; a mutex keeps two runs of a day apart."""
    with DAG(
        name="day",
        inputs=[_trade_date_input(), _underlyings()],
        synchronization=m.Synchronization(mutexes=[m.Mutex(name=f"smelt-day-{TRADE_DATE}")]),
    ) as day:
        stocks = Task(name="ingest-stocks", template_ref=_ref(INGEST_STOCKS, "ingest-stocks"),
                      arguments={"trade-date": TRADE_DATE})  # fmt: skip
        options = Task(
            name="ingest-options", template_ref=_ref(INGEST_OPTIONS, "ingest-options"),
            arguments={"trade-date": TRADE_DATE, "underlyings": "{{inputs.parameters.underlyings}}"},
        )  # fmt: skip
        loaded = Task(name="load", template_ref=_ref(LOAD, "load"), arguments={"trade-date": TRADE_DATE})
        transformed = Task(name="transform", template_ref=_ref(TRANSFORM, "transform"))
        published = Task(name="publish", template_ref=_ref(PUBLISH, "publish"))
        stocks >> loaded
        options >> loaded
        loaded >> transformed
        transformed >> published
    return day


def daily(warehouse: Warehouse) -> WorkflowTemplate:
    """`smelt-daily`: resolve the trading day from the calendar, then run it, or skip a closed day cleanly."""
    with WorkflowTemplate(
        **_metadata(DAILY, "daily"),
        **_workflow_defaults("daily", 6),
        on_exit="report",
        synchronization=pod.run_limit(),
        arguments=[
            Parameter(name="trade-date", value="auto",
                      description="YYYY-MM-DD, or auto: the session of scheduled-time (of now when empty)."),
            Parameter(name="scheduled-time", value="",
                      description="When the run was due (the CronWorkflow passes {{workflow.scheduledTime}})."),
            _underlyings(),
        ],
    ) as template:  # fmt: skip
        resolve = pod.step(
            "resolve-trade-date",
            ["calendar", "resolve", "--date", "{{workflow.parameters.trade-date}}",
             "--scheduled", "{{workflow.parameters.scheduled-time}}", "--out-dir", pod.OUTPUTS],
            warehouse=warehouse, size="calendar",
            outputs=[
                Parameter(name="trade-date", global_name="trade-date",
                          value_from=m.ValueFrom(path=f"{pod.OUTPUTS}/trade-date")),
                Parameter(name="trading", value_from=m.ValueFrom(path=f"{pod.OUTPUTS}/trading")),
            ],
        )  # fmt: skip
        day = _day(warehouse)
        _report(
            warehouse,
            "daily",
            "{{workflow.outputs.parameters.trade-date}}",
            "{{workflow.outputs.parameters.trade-date}}",
        )
        with DAG(name="daily"):
            resolved = Task(name="resolve-trade-date", template=resolve)
            run = Task(
                name="run-day",
                template=day,
                when="{{tasks.resolve-trade-date.outputs.parameters.trading}} == true",
                arguments={
                    "trade-date": "{{tasks.resolve-trade-date.outputs.parameters.trade-date}}",
                    "underlyings": "{{workflow.parameters.underlyings}}",
                },
            )
            resolved >> run
    return template


def _flatfile_day() -> DAG:
    """One day over flat files: its two objects, and the day's splits and Treasury curve (which the flat files
    do not carry) through `smelt-ingest-stocks`, then the load. No transform: the backfill runs one at the end.
    The day mutex keeps it apart from a `smelt-daily` run of the same day."""
    with DAG(
        name="flatfile-day",
        inputs=[_trade_date_input()],
        synchronization=m.Synchronization(mutexes=[m.Mutex(name=f"smelt-day-{TRADE_DATE}")]),
    ) as day:
        files = Task(name="ingest-flatfiles", template_ref=_ref(INGEST_FLATFILES, "ingest-flatfiles"),
                     arguments={"trade-date": TRADE_DATE})  # fmt: skip
        stocks = Task(name="ingest-stocks", template_ref=_ref(INGEST_STOCKS, "ingest-stocks"),
                      arguments={"trade-date": TRADE_DATE})  # fmt: skip
        loaded = Task(name="load", template_ref=_ref(LOAD, "load"), arguments={"trade-date": TRADE_DATE})
        files >> loaded
        stocks >> loaded
    return day


def _flatfile_days() -> DAG:
    """The fan-out: one `flatfile-day` per trading day, a bounded number at once, then one transform and one
    publish over everything landed (a transform per day would rebuild what the next day's rebuilds)."""
    day = _flatfile_day()
    days = Parameter(name="days", description="Trading days as a JSON list.")
    with DAG(name=FLATFILE_DAYS, inputs=[days], parallelism=FLATFILE_PARALLELISM) as fan_out:
        landed = Task(
            name="day",
            template=day,
            with_param="{{inputs.parameters.days}}",
            arguments={"trade-date": "{{item}}"},
        )
        transformed = Task(name="transform", template_ref=_ref(TRANSFORM, "transform"))
        published = Task(name="publish", template_ref=_ref(PUBLISH, "publish"))
        landed >> transformed
        transformed >> published
    return fan_out


def backfill(warehouse: Warehouse) -> WorkflowTemplate:
    """`smelt-backfill`: a date range expanded to trading days, then either path by the `bars` parameter.

    `rest`: one whole `smelt-daily` day each, a few at a time (every request through the Polygon API).
    `flatfiles`: one pod per day fetching the day's two flat-file objects, then one transform and publish.
    The chart sets the default from `flatfiles.enabled`; a submitter may choose per run (`-p bars=rest`).
    `argo cron backfill smelt-daily --start … --end … --argname scheduled-time` is the alternative that
    creates one whole `smelt-daily` workflow per schedule time (docs/kubernetes.md).
    """
    with WorkflowTemplate(
        **_metadata(BACKFILL, "backfill"),
        **_workflow_defaults("backfill", 48),
        on_exit="report",
        synchronization=pod.run_limit(),
        arguments=[Parameter(name="start", description="First day, YYYY-MM-DD."),
                   Parameter(name="end", description="Last day, YYYY-MM-DD."), _underlyings(),
                   Parameter(name="bars", value=REST, enum=[REST, FLATFILES],
                             description="Where the bars come from: rest (the API, per underlying) or flatfiles.")],
    ) as template:  # fmt: skip
        expand = pod.step(
            "trading-days",
            ["calendar", "days", "--start", "{{workflow.parameters.start}}", "--end", "{{workflow.parameters.end}}",
             "--out-dir", pod.OUTPUTS],
            warehouse=warehouse, size="calendar",
            outputs=[Parameter(name="days", value_from=m.ValueFrom(path=f"{pod.OUTPUTS}/days"))],
        )  # fmt: skip
        flatfile_days = _flatfile_days()
        _report(warehouse, "backfill", "{{workflow.parameters.start}}", "{{workflow.parameters.end}}")
        with DAG(name="backfill", parallelism=BACKFILL_PARALLELISM):
            days = Task(name="trading-days", template=expand)
            rest = Task(
                name="run-day",
                template_ref=_ref(DAILY, "day"),
                with_param="{{tasks.trading-days.outputs.parameters.days}}",
                when=f"{{{{workflow.parameters.bars}}}} == {REST}",
                arguments={"trade-date": "{{item}}", "underlyings": "{{workflow.parameters.underlyings}}"},
            )
            files = Task(
                name="flatfiles",
                template=flatfile_days,
                when=f"{{{{workflow.parameters.bars}}}} == {FLATFILES}",
                arguments={"days": "{{tasks.trading-days.outputs.parameters.days}}"},
            )
            days >> [rest, files]
    return template


def cron() -> CronWorkflow:
    """`smelt-daily` on a schedule: Argo's documented pattern of a CronWorkflow referencing the template.

    The chart sets the schedules, time zone, suspension, starting deadline and history limits, and the
    `underlyings` argument: a scheduled run carries the release's universe whatever the template's default.
    """
    return CronWorkflow(
        **_metadata(DAILY, "daily"),
        concurrency_policy="Forbid",
        workflow_template_ref=m.WorkflowTemplateRef(name=DAILY),
        arguments=[Parameter(name="scheduled-time", value="{{workflow.scheduledTime}}"), _underlyings()],
    )


def validation_cron() -> CronWorkflow:
    """`smelt-validate` on a schedule (weekly, the chart's `validation` values): Forbid, like the daily one."""
    return CronWorkflow(
        **_metadata(VALIDATE, "validate"),
        concurrency_policy="Forbid",
        workflow_template_ref=m.WorkflowTemplateRef(name=VALIDATE),
    )


#: Every WorkflowTemplate, in install order (the ones referenced before those that reference them).
TEMPLATE_NAMES = (
    INGEST_STOCKS, INGEST_OPTIONS, INGEST_FLATFILES, LOAD, TRANSFORM, PUBLISH, DAILY, BACKFILL, VALIDATE,
)  # fmt: skip


def all_manifests(warehouse: Warehouse) -> list[WorkflowTemplate | CronWorkflow]:
    """Every object `smelt argo render` writes for one warehouse, in install order."""
    builders = (
        ingest_stocks,
        ingest_options,
        ingest_flatfiles,
        load,
        transform,
        publish,
        daily,
        backfill,
        validate,
    )
    return [*(build(warehouse) for build in builders), cron(), validation_cron()]
