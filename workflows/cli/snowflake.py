"""``smelt snowflake render``: the account setup scripts with their parameters, for people without SnowSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.shared import EXIT_USAGE
from workflows.warehouse.snowflake_scripts import ScriptError, render, script

snowflake_app = typer.Typer(
    help="Snowflake account setup: render snowflake/*.sql (docs/snowflake.md).", no_args_is_help=True
)


@snowflake_app.command("render")
def render_command(
    name: Annotated[str, typer.Argument(help="setup or grants")],
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="name=value, repeatable; name=@file reads the value from a file (a .pub key)"
        ),
    ] = None,
) -> None:
    """Print a script with its parameters substituted, for a Snowflake worksheet or ``snow sql -f -``."""
    given: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint="--set")
        given[key.strip()] = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        typer.echo(render(script(name), given))
    except ScriptError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_USAGE) from None
