"""Every command a rendered step runs parses with the real `smelt` command line: a flag the templates pass
that the CLI does not have (renamed, removed, misspelt) fails here, not in a pod at 18:30."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from workflows.argo import render
from workflows.cli import app

#: Plausible values for Argo's placeholders: a day where a day goes, the rest any word.
DAY = "2026-11-24"


def _substitute(arg: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return DAY if re.search(r"date|start|end", name) else "run-1"

    return re.sub(r"\{\{([^}]+)\}\}", value, arg)


class NoSuchCommandError(Exception):
    pass


def parse(args: list[str]) -> typer.Context:
    """Parse ``smelt <args>`` down to its leaf command as Typer would before running it (nothing runs);
    a usage error (unknown flag, missing value) raises Typer's own exception."""
    command: Any = typer.main.get_command(app)
    path, rest = ["smelt"], list(args)
    while isinstance(command, TyperGroup):
        name, rest = rest[0], rest[1:]
        found = command.get_command(typer.Context(command), name)
        if found is None:
            raise NoSuchCommandError(" ".join([*path, name]))
        command, path = found, [*path, name]
    context: typer.Context = command.make_context(" ".join(path), rest)
    return context


def _steps() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for warehouse in render.WAREHOUSES:
        for manifest in render.manifests(warehouse):
            for template in manifest["spec"].get("templates", []):
                container: dict[str, Any] | None = template.get("container")
                if container and f"{template['name']}" not in {name for name, _ in found}:
                    found.append((template["name"], container["args"]))
    return found


@pytest.mark.parametrize(("step", "args"), _steps(), ids=[name for name, _ in _steps()])
def test_the_step_command_parses_with_the_real_cli(step: str, args: list[str]) -> None:
    words = args[: next(i for i, a in enumerate(args) if a.startswith("-"))]
    context = parse([_substitute(a) for a in args])
    assert context.info_name == " ".join(["smelt", *words]), step


def test_the_check_refuses_a_flag_the_cli_lacks() -> None:
    with pytest.raises(Exception, match="No such option: --no-such-flag"):
        parse(["load", "--date", DAY, "--no-such-flag"])
    with pytest.raises(NoSuchCommandError, match="smelt ingest no-such-dataset"):
        parse(["ingest", "no-such-dataset"])
