"""Logging in to Snowflake with a key pair: the connector's arguments from ``SNOWFLAKE_*``.

One definition for every Snowflake client smelt has: the loader and the steps (``workflows.warehouse``) and the
dashboard, which may not import warehouse code (tests/foundation/test_package_imports.py), hence a module of
its own on the ground floor beside the settings.
"""

from __future__ import annotations

from typing import Any

from workflows.settings import Settings


class SnowflakeConfigError(RuntimeError):
    """Snowflake refused because of how the account or smelt is set up; retrying will not help."""

    retryable = False


def connect_args(settings: Settings, schema: str) -> dict[str, Any]:
    """``snowflake.connector.connect`` arguments from ``SNOWFLAKE_*``: key-pair authentication only, in
    ``schema``; the key is read here, so a missing or unreadable key fails before any connection."""
    from cryptography.hazmat.primitives import serialization

    path = settings.snowflake.private_key_path
    assert path is not None and settings.snowflake.database  # the settings validate both for snowflake
    passphrase = settings.snowflake.private_key_passphrase
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=passphrase.get_secret_value().encode() if passphrase else None
        )
    except FileNotFoundError:
        raise SnowflakeConfigError(
            f"SNOWFLAKE_PRIVATE_KEY_PATH={path} does not exist: mount the key's Secret there"
        ) from None
    except (ValueError, TypeError) as exc:
        raise SnowflakeConfigError(
            f"SNOWFLAKE_PRIVATE_KEY_PATH={path} is not a PEM private key, or needs "
            f"SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ({type(exc).__name__})"
        ) from None
    args: dict[str, Any] = {
        "account": settings.snowflake.account,
        "user": settings.snowflake.user,
        "authenticator": "SNOWFLAKE_JWT",
        "private_key": key,
        "role": settings.snowflake.role,
        "warehouse": settings.snowflake.warehouse,
        "database": settings.snowflake.database,
        "schema": schema,
        "application": "smelt",
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        "login_timeout": 60,
        "network_timeout": 600,
    }
    if settings.snowflake.host:
        args["host"] = settings.snowflake.host
    if settings.snowflake.port:
        args["port"] = settings.snowflake.port
    if settings.snowflake.protocol != "https":
        args["protocol"] = settings.snowflake.protocol
    return {k: v for k, v in args.items() if v is not None}
