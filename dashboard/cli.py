"""``smelt dashboard``: serve the dashboard (gunicorn), publish a marts snapshot, make a password hash.

Reached through ``workflows/cli/dashboard.py``, which imports this module only when the command runs; heavy
imports (Dash, gunicorn) wait until a subcommand runs.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

app = typer.Typer(help="The options-analytics dashboard.", add_completion=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(f"smelt dashboard: {message}\n")
    return typer.Exit(code)


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8050).")] = None,
) -> None:
    """Serve the dashboard on http://HOST:PORT until interrupted (gunicorn, SMELT_DASHBOARD_* settings)."""
    if ctx.invoked_subcommand:
        return
    from dashboard.config import load_dashboard_settings
    from dashboard.serving import options
    from workflows.settings import SettingsError, load_settings

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    try:
        settings = load_settings()
        dashboard = load_dashboard_settings(**overrides)
        served = options(dashboard)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    _publish_if_missing(settings)
    sys.stdout.write(f"smelt dashboard: serving http://{served['bind'][0]}/market (Ctrl-C stops it)\n")
    sys.stdout.flush()
    _run_gunicorn(served)


def _publish_if_missing(settings: Any) -> None:
    """A warehouse built before snapshots existed gets its first one now; without marts, pages say so."""
    from workflows.marts_contract import current_version
    from workflows.publish import publish, snapshot_root

    if settings.warehouse != "duckdb" or current_version(snapshot_root(settings)) is not None:
        return
    if not settings.duckdb.path.exists():
        sys.stderr.write(
            "smelt dashboard: no warehouse yet; pages will say so until `smelt run` builds one\n"
        )
        return
    sys.stdout.write("smelt dashboard: publishing the first marts snapshot from the warehouse...\n")
    try:
        publish(settings)
    except Exception as exc:
        raise _fail(f"could not publish a snapshot of {settings.duckdb.path}: {exc}", 1) from None


def _run_gunicorn(served: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in served.items():
                if value is not None:
                    self.cfg.set(name, value)

        def load(self) -> Any:
            from dashboard.wsgi import server

            return server

    Server().run()


@app.command("publish")
def publish_command() -> None:
    """Publish the warehouse's marts as a new snapshot now (the publish step, `smelt publish`, does this after
    each build)."""
    from workflows.publish import PublishError, publish
    from workflows.settings import SettingsError, load_settings

    try:
        report = publish(load_settings())
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    except PublishError as exc:
        raise _fail(str(exc), 1) from None
    sys.stdout.write(
        f"published {report.version}: {sum(report.rows.values()):,} rows, {report.bytes:,} bytes\n"
    )


@app.command("hash-password")
def hash_password(user: Annotated[str, typer.Argument(help="User name for the users file.")]) -> None:
    """Print a users-file line (user:hash) for basic auth; the password is read from the terminal or stdin."""
    from werkzeug.security import generate_password_hash

    if ":" in user or not user.strip():
        raise _fail("a user name must be non-empty and contain no ':'")
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise _fail("use a password of at least 12 characters")
    sys.stdout.write(f"{user}:{generate_password_hash(password)}\n")
