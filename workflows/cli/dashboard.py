"""``smelt dashboard …``: hands its arguments to the dashboard's own command line (``dashboard/cli.py``).

The dashboard is imported when the command runs, never with the pipeline: the pipeline image ships without
it, and there the command says which extra to install.
"""

from __future__ import annotations

import sys

import typer

from workflows.cli.shared import EXIT_USAGE

#: Packages only the ``dashboard`` extra installs; the pipeline image has none of them.
_DASHBOARD_MODULES = frozenset({"dashboard", "dash", "dash_ag_grid", "plotly", "gunicorn"})


def dashboard(ctx: typer.Context) -> None:
    """The options-analytics dashboard: serve, publish a snapshot, hash a password (the dashboard extra)."""
    try:
        from dashboard import cli as dashboard_cli

        command = typer.main.get_command(dashboard_cli.app)
        command.main(args=ctx.args, prog_name="smelt dashboard")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _DASHBOARD_MODULES:
            raise
        sys.stderr.write(
            f"smelt dashboard: this installation has no dashboard ({exc.name} is missing): install the "
            "'dashboard' extra (pip install 'smelt[dashboard]') or run the smelt-dashboard image\n"
        )
        raise typer.Exit(EXIT_USAGE) from None
