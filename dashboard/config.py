"""The dashboard's own settings (``SMELT_DASHBOARD_*``), next to the pipeline's ``Settings``.

The pipeline settings say where the marts are (``SMELT_HOME``, ``SMELT_WAREHOUSE``, ``SNOWFLAKE_*``); these say
how the dashboard serves them. The one rule checked here: a dashboard reachable beyond this machine needs
authentication, or an explicit ``SMELT_DASHBOARD_ALLOW_ANONYMOUS=true``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.settings import SettingsError


class DashboardSettings(BaseSettings):
    """How the dashboard serves; build with :func:`load_dashboard_settings`."""

    model_config = SettingsConfigDict(env_prefix="SMELT_DASHBOARD_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Bind address.")
    port: int = Field(default=8050, ge=1, le=65535)
    auth: Literal["none", "basic", "proxy"] = Field(
        default="none",
        description="none; basic (users from SMELT_DASHBOARD_USERS_FILE); proxy (an authenticating proxy in "
        "front, e.g. oauth2-proxy, and the app bound to loopback)",
    )
    users_file: Path | None = Field(default=None, description="Lines of user:werkzeug-password-hash.")
    allow_anonymous: bool = Field(default=False, description="Serve beyond loopback without authentication.")
    workers: int = Field(default=1, ge=1, le=16, description="gunicorn worker processes.")
    threads: int = Field(default=4, ge=1, le=64, description="gunicorn threads per worker.")
    cache_entries: int = Field(default=512, ge=0, le=100_000, description="Query results kept per process.")
    snapshot_check_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="How often CURRENT is read (the snapshot's, or the lake's on Snowflake).",
    )
    snowflake_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Snowflake login and request timeout: an outage shows within it.",
    )
    duckdb_memory_limit: str = Field(default="512MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$")
    duckdb_threads: int = Field(default=2, ge=1, le=64)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check_exposure(self) -> None:
        """Refuse to serve beyond loopback without authentication unless that was asked for explicitly."""
        if self.auth == "basic" and self.users_file is None:
            raise SettingsError(
                "SMELT_DASHBOARD_AUTH=basic needs SMELT_DASHBOARD_USERS_FILE (lines of user:hash; "
                "`smelt dashboard hash-password` makes one)"
            )
        if self.auth == "proxy" and not self.loopback:
            raise SettingsError(
                f"SMELT_DASHBOARD_AUTH=proxy binds the app to loopback behind the proxy; got host {self.host}"
            )
        if self.auth == "none" and not self.loopback and not self.allow_anonymous:
            raise SettingsError(
                f"the dashboard would serve {self.host} without authentication: set SMELT_DASHBOARD_AUTH=basic "
                "with SMELT_DASHBOARD_USERS_FILE, or SMELT_DASHBOARD_ALLOW_ANONYMOUS=true if that is intended"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_dashboard_settings(**overrides: Any) -> DashboardSettings:
    """Read ``SMELT_DASHBOARD_*`` (plus overrides) or raise ``SettingsError`` naming the variable."""
    try:
        return DashboardSettings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else ""
            lines.append(f"SMELT_DASHBOARD_{field.upper()}={err.get('input')!r} is not valid: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
