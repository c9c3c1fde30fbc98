"""``smelt argo …``, ``smelt calendar …`` and ``smelt doctor``: registered in workflows/cli.py.

The pipeline image runs ``smelt calendar`` and ``smelt argo report`` inside workflows and installs neither
Hera nor the Kubernetes client, so those are imported only by the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workflows import logs
from workflows.settings import Settings

argo_app = typer.Typer(
    help="Argo Workflows: render the templates, submit runs, report a run.", no_args_is_help=True
)
calendar_app = typer.Typer(help="The NYSE calendar, as the workflows ask it.", no_args_is_help=True)
log = logs.get_logger("smelt.argo")

OutDir = Annotated[Path, typer.Option(help="Folder for Argo output parameters (one file each).")]
DEFAULT_RENDER_DIR = Path("charts/pipeline/files/argo")


def _settings() -> Settings:
    """The CLI's own settings loader (exit 2 naming the variable); imported late: cli.py imports this module."""
    from workflows.cli import _settings as load

    return load()


def _bad_arguments(message: str) -> typer.Exit:
    log.error(message)
    return typer.Exit(2)


def _write_outputs(out_dir: Path, **values: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (out_dir / name).write_text(value)


@calendar_app.command("resolve")
def calendar_resolve(
    date: Annotated[str, typer.Option(help="YYYY-MM-DD, or auto: the session of --scheduled.")] = "auto",
    scheduled: Annotated[str, typer.Option(help="RFC 3339 time the run was due; empty: now.")] = "",
    out_dir: OutDir = Path("outputs"),
) -> None:
    """Resolve a run's trading day: writes trade-date, trading (true/false) and reason to --out-dir."""
    from workflows.argo import tradingday

    _settings()
    try:
        result = tradingday.resolve(date, scheduled or None)
    except tradingday.TradingDayError as exc:
        raise _bad_arguments(f"calendar resolve: {exc}") from None
    trading = "true" if result.trading else "false"
    _write_outputs(
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

    _settings()
    try:
        sessions = tradingday.days(start, end)
    except tradingday.TradingDayError as exc:
        raise _bad_arguments(f"calendar days: {exc}") from None
    _write_outputs(out_dir, days=json.dumps([d.isoformat() for d in sessions]))
    log.info("trading days", start=start, end=end, days=len(sessions))


@argo_app.command("report")
def argo_report(
    workflow: Annotated[str, typer.Option(help="The workflow's name ({{workflow.name}}).")],
    status: Annotated[str, typer.Option(help="{{workflow.status}}")],
    start: Annotated[str, typer.Option(help="First trading day of the run.")],
    end: Annotated[str, typer.Option(help="Last trading day of the run.")],
    failures: Annotated[str, typer.Option(help="{{workflow.failures}} (JSON).")] = "null",
    out_dir: OutDir = Path("outputs"),
) -> None:
    """Exit handler: log the run's outcome and failed nodes; write the rows it landed to --out-dir/rows."""
    from workflows.argo import report
    from workflows.lake import Lake, LakeError

    settings = _settings()
    try:
        result = report.outcome(
            Lake.open(settings.lake, settings.s3_endpoint_url), workflow, status, failures, start, end
        )
    except LakeError as exc:
        log.error("report: cannot read the lake", error=logs.redact(str(exc)))
        raise typer.Exit(1) from None
    _write_outputs(out_dir, rows=str(result.rows))
    fields = report.as_log_fields(result)
    if status == "Succeeded":
        log.info("run succeeded", **fields)
    else:
        log.error("run did not succeed", **fields)


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
    underlyings: Annotated[
        str | None, typer.Option(help="Comma-separated underlyings; default SMELT_UNDERLYINGS.")
    ] = None,
    namespace: Annotated[
        str, typer.Option(envvar="ARGO_NAMESPACE", help="Namespace of the templates and runs.")
    ] = "smelt",
    image: Annotated[
        str | None, typer.Option(envvar="SMELT_IMAGE", help="Pipeline image for the templates.")
    ] = None,
) -> None:
    """Create or update the templates, then submit a run: through the Argo Server when ARGO_SERVER is set,
    otherwise straight to the Kubernetes API (kubeconfig or in-cluster). Prints the run and `argo watch`."""
    from workflows.argo import submit

    settings = _settings()
    try:
        run = submit.plan(settings, date=date, start=start, end=end, underlyings=underlyings, image=image)
    except submit.SubmitArgumentError as exc:
        raise _bad_arguments(f"argo submit: {exc}") from None
    try:
        name = submit.submit(run, namespace)
    except submit.NotConfiguredError as exc:
        raise _bad_arguments(f"argo submit: {exc}") from None
    except submit.SubmitError as exc:
        log.error(f"argo submit: {logs.redact(str(exc))}")
        raise typer.Exit(1) from None
    typer.echo(f"submitted {name} (from workflowtemplate/{run.template}) in namespace {namespace}")
    typer.echo(f"watch it: argo watch -n {namespace} {name}")


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
        raise _bad_arguments(f"doctor: {exc}") from None
    for result in results:
        mark = "ok  " if result.ok else "MISS"
        typer.echo(f"{mark} {result.name}: {result.detail}")
        if not result.ok:
            typer.echo(f"     fix: {result.fix}")
    missing = [r for r in results if not r.ok]
    typer.echo(f"{len(results) - len(missing)}/{len(results)} checks passed")
    if missing:
        raise typer.Exit(1)
