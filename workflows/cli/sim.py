"""``smelt sim serve``: the built-in Polygon-compatible simulator over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workflows.cli.shared import settings_or_exit

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
