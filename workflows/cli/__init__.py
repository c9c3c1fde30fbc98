"""``smelt``: the command line of the pipeline and of each container step.

Every command reads settings from the environment, logs structured lines, and ends a failure with one line
that says what failed and what to do. Exit codes: 0 done; 1 the step failed and running it again may
succeed (network, throttling, a lock); 2 bad arguments or settings; 3 the step failed and will fail again
until something is fixed (the API key, a corrupt file, a failed data test).
"""

# The package sits on top of everything: it imports the library, and no library module imports it
# (tests/foundation/test_import_graph.py). Each command module holds one family of commands; this one
# assembles them and maps usage errors to one line and exit code 2.

from __future__ import annotations

import sys

import typer

# typer vendors click since 0.22: its usage errors are these classes, not the click package's.
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from workflows.cli import argo, calendar, dashboard, runs, sim, snowflake, steps, trace
from workflows.cli.shared import EXIT_USAGE

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(steps.ingest_app, name="ingest")
app.add_typer(sim.sim_app, name="sim")
app.add_typer(snowflake.snowflake_app, name="snowflake")
app.add_typer(argo.argo_app, name="argo")
app.add_typer(calendar.calendar_app, name="calendar")
app.command("doctor")(argo.doctor)
app.command(
    "dashboard",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(dashboard.dashboard)
app.command("load")(steps.load)
app.command("transform")(steps.transform)
app.command("run")(steps.run)
app.command("publish")(steps.publish)
app.command("summary")(steps.summary)
app.command("trace")(trace.trace)
app.command("runs")(runs.runs)


def main() -> None:
    """The console entry point: a usage error is one line naming the option, exit code 2."""
    try:
        code = app(prog_name="smelt", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        sys.stdout.write(exc.format_message() + "\n")
        code = 0
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "smelt"
        message = " ".join(exc.format_message().replace("Value error, ", "").split())
        sys.stderr.write(f"{where}: error: {message} (see `{where} --help`)\n")
        code = EXIT_USAGE
    except typer.Abort:
        sys.stderr.write("smelt: interrupted\n")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
