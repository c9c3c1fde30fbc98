"""``smelt sim serve``: the built-in Polygon-compatible simulator over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workflows.cli.shared import (
    FirstDayOpt,
    FlatFileDatasetsOpt,
    LastDayOpt,
    flatfile_datasets,
    settings_or_exit,
)

sim_app = typer.Typer(help="The built-in Polygon-compatible market simulator.", no_args_is_help=True)


@sim_app.command("serve")
def sim_serve(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8700,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Market seed (default SMELT_SIM_SEED).")] = None,
    faults: Annotated[str | None, typer.Option(help="Fault spec, e.g. rate_429=0.3,retry_after=1")] = None,
) -> None:
    """Serve the simulator over HTTP, e.g. for SMELT_SIM_URL=http://127.0.0.1:8700."""
    from workflows import simulator

    settings = settings_or_exit()
    try:
        parsed: Any = simulator.Faults.parse(faults) if faults else None
    except simulator.FaultsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    simulator.serve(host=host, port=port, seed=settings.simulator.seed if seed is None else seed, faults=parsed,
                    now=settings.simulator.now, snapshot_history=settings.simulator.snapshot_history,
                    market_size=settings.simulator.market_size, universe=settings.simulator.universe)  # fmt: skip


@sim_app.command("publish-flatfiles")
def sim_publish_flatfiles(start: FirstDayOpt, end: LastDayOpt, datasets: FlatFileDatasetsOpt = None) -> None:
    """Publish the simulator's day-aggregate flat files to POLYGON_FLATFILES_ENDPOINT_URL (bucket and keys
    from POLYGON_FLATFILES_*); days not yet published at the simulator's clock are left out."""
    from workflows import calendar
    from workflows.cli.shared import bad_arguments, run_step
    from workflows.flatfiles import FlatFileError, FlatFilesClient
    from workflows.simulator import create_app
    from workflows.simulator import flatfiles as published
    from workflows.steps import StepError
    from workflows.steps.plan import source_now
    from workflows.steps.source import embedded_simulator

    settings = settings_or_exit()
    if start > end:
        raise typer.BadParameter(
            f"{start:%Y-%m-%d} is after --end {end:%Y-%m-%d}; swap them", param_hint="--start"
        )
    chosen = flatfile_datasets(datasets)
    days = calendar.trading_days(start.date(), end.date())
    if not days:
        raise bad_arguments(f"no trading days between {start:%Y-%m-%d} and {end:%Y-%m-%d}")

    def publish() -> list[published.Published]:
        try:
            client = FlatFilesClient.from_settings(settings.flatfiles)
            options = create_app(**embedded_simulator(settings)).state.options
            files, _ = published.publish(client, options, days, chosen, source_now(settings))
        except FlatFileError as exc:
            raise StepError(f"publish-flatfiles: {exc}", retryable=exc.retryable) from exc
        return files

    run_step("publish-flatfiles", publish, None, files=len, rows=lambda f: sum(p.rows for p in f),
             bytes=lambda f: sum(p.bytes for p in f))  # fmt: skip
