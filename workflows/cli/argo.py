"""``smelt argo …`` (render, install the templates, submit and report runs) and ``smelt doctor``.

The pipeline image runs ``smelt argo report`` inside workflows and installs neither Hera nor the Kubernetes
client, so those are imported only by the commands that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflows import logs
from workflows.cli.shared import (
    EXIT_RETRYABLE,
    OutDir,
    UnderlyingsOpt,
    bad_arguments,
    settings_or_exit,
    write_outputs,
)

argo_app = typer.Typer(
    help="Argo Workflows: render or install the templates, submit runs, report a run.", no_args_is_help=True
)
log = logs.get_logger("smelt.argo")

DEFAULT_RENDER_DIR = Path("charts/pipeline/files/argo")
NamespaceOpt = Annotated[
    str, typer.Option(envvar="ARGO_NAMESPACE", help="Namespace of the templates and runs.")
]


@argo_app.command("report")
def argo_report(
    workflow: Annotated[str, typer.Option(help="The workflow's name ({{workflow.name}}).")],
    status: Annotated[str, typer.Option(help="{{workflow.status}}")],
    start: Annotated[str, typer.Option(help="First trading day of the run.")],
    end: Annotated[str, typer.Option(help="Last trading day of the run.")],
    failures: Annotated[str, typer.Option(help="{{workflow.failures}} (JSON).")] = "null",
    kind: Annotated[str, typer.Option(help="The run's template: daily or backfill.")] = "daily",
    started: Annotated[str, typer.Option(help="{{workflow.creationTimestamp}} (RFC 3339).")] = "",
    duration: Annotated[str, typer.Option(help="{{workflow.duration}} (seconds).")] = "",
    out_dir: OutDir = Path("outputs"),
) -> None:
    """Exit handler: log the run's outcome, store its report in the lake (with each step's durations, read
    from the run's Workflow object), post an alert if configured; write the rows it landed to --out-dir/rows."""
    import datetime as dt

    from workflows import alerts, run_reports
    from workflows.argo import report
    from workflows.lake import Lake, LakeError

    settings = settings_or_exit()
    steps, steps_unavailable = report.run_steps(workflow)
    if steps_unavailable:
        log.warning("report: no step durations", reason=steps_unavailable)
    try:
        result = report.outcome(
            Lake.open(settings.lake, settings.s3_endpoint_url), workflow, status, failures, start, end
        )
        record = report.report_of(
            result,
            kind=kind,
            source=settings.source,
            started=started,
            duration=duration,
            start=start,
            end=end,
            now=dt.datetime.now(dt.UTC),
            steps=steps,
            steps_unavailable=steps_unavailable,
        )
        stored = run_reports.store(settings, record)
    except (LakeError, OSError) as exc:
        log.error("report: cannot read or write the lake", error=logs.redact(str(exc)))
        raise typer.Exit(EXIT_RETRYABLE) from None
    write_outputs(out_dir, rows=str(result.rows))
    fields = report.as_log_fields(result)
    if status == "Succeeded":
        log.info("run succeeded", report=stored[0], **fields)
    else:
        log.error("run did not succeed", report=stored[0], **fields)
    alerts.notify(settings.alert, record)


@argo_app.command("render")
def argo_render(
    out: Annotated[
        Path, typer.Option(help="Folder for the YAML (one subfolder per warehouse).")
    ] = DEFAULT_RENDER_DIR,
) -> None:
    """Write every WorkflowTemplate and the CronWorkflow as YAML (the pipeline chart ships these files)."""
    from workflows.argo import render

    logs.configure()
    for path in render.render(out):
        typer.echo(path)


@argo_app.command("submit")
def argo_submit(
    date: Annotated[
        str | None, typer.Option(help="Run smelt-daily for this day (default: auto, today's session).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Run smelt-backfill from this day…")] = None,
    end: Annotated[str | None, typer.Option(help="…to this day.")] = None,
    underlyings: UnderlyingsOpt = None,
    namespace: NamespaceOpt = "smelt",
) -> None:
    """Submit a run of the installed templates; prints the run and `argo watch`.

    Through the Argo Server when ARGO_SERVER is set, otherwise straight to the Kubernetes API (kubeconfig or
    in-cluster). Helm installs the templates (or `smelt argo install-templates`).
    """
    from workflows.argo import submit

    settings = settings_or_exit()
    try:
        run = submit.plan(settings, date=date, start=start, end=end, underlyings=underlyings)
    except submit.SubmitArgumentError as exc:
        raise bad_arguments(f"argo submit: {exc}") from None
    try:
        name = submit.submit(run, namespace)
    except (submit.NotConfiguredError, submit.NotInstalledError) as exc:
        raise bad_arguments(f"argo submit: {exc}") from None
    except submit.SubmitError as exc:
        log.error(f"argo submit: {logs.redact(str(exc))}")
        raise typer.Exit(EXIT_RETRYABLE) from None
    typer.echo(f"submitted {name} (from workflowtemplate/{run.template}) in namespace {namespace}")
    typer.echo(f"watch it: argo watch -n {namespace} {name}")


@argo_app.command("install-templates")
def argo_install_templates(
    namespace: NamespaceOpt = "smelt",
    image: Annotated[
        str | None, typer.Option(envvar="SMELT_IMAGE", help="Pipeline image for the templates.")
    ] = None,
) -> None:
    """Create or update the templates where the pipeline chart does not install them.

    Every WorkflowTemplate of SMELT_WAREHOUSE (not the CronWorkflow: the chart owns its schedule), through the
    same API as `submit`; prints each one installed.
    """
    from workflows.argo import submit

    settings = settings_or_exit()
    try:
        installed = submit.install(settings.warehouse, image or submit.default_image(), namespace)
    except submit.NotConfiguredError as exc:
        raise bad_arguments(f"argo install-templates: {exc}") from None
    except submit.SubmitError as exc:
        log.error(f"argo install-templates: {logs.redact(str(exc))}")
        raise typer.Exit(EXIT_RETRYABLE) from None
    for kind, name in installed:
        typer.echo(f"installed {kind.lower()}/{name} in namespace {namespace}")


def doctor(
    namespace: Annotated[
        str, typer.Option(envvar="ARGO_NAMESPACE", help="Namespace of the pipeline chart.")
    ] = "smelt",
) -> None:
    """Check a cluster before the first run: CRDs, secrets, semaphore, service account, templates."""
    from workflows.argo import doctor as checks

    logs.configure()
    try:
        results = checks.run(namespace)
    except checks.NoClusterError as exc:
        raise bad_arguments(f"doctor: {exc}") from None
    for result in results:
        mark = "ok  " if result.ok else "MISS"
        typer.echo(f"{mark} {result.name}: {result.detail}")
        if not result.ok:
            typer.echo(f"     fix: {result.fix}")
    missing = [r for r in results if not r.ok]
    typer.echo(f"{len(results) - len(missing)}/{len(results)} checks passed")
    if missing:
        raise typer.Exit(1)
