"""The account setup scripts in ``snowflake/`` rendered with their parameters, for people without SnowSQL.

The scripts use the ``&{name}`` variables of SnowSQL and the Snowflake CLI, so ``snow sql -f setup.sql -D
name=value`` runs them as they are; :func:`render` does the same substitution here, and refuses a value that
could change the statement around it (every value is an identifier, an S3 URL, an IAM role ARN, a number or
a base64 public key, checked by its own pattern).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

#: Where the scripts live in a checkout (they are run by an administrator, not shipped in the images).
SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "snowflake"
SCRIPTS = ("setup", "grants")

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_$]{0,254}"
_PATTERNS: dict[str, str] = {
    "identifier": _IDENTIFIER,
    "lake_url": r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*()\-]+)*",
    "aws_role_arn": r"arn:aws[a-z\-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/\-]{1,512}",
    "credits": r"[1-9][0-9]{0,6}",
    "public_key": r"[A-Za-z0-9+/=]{64,4096}",
}

#: Every parameter with its kind and default (None: the administrator must give it).
PARAMETERS: dict[str, tuple[str, str | None]] = {
    "database": ("identifier", "SMELT"),
    "load_warehouse": ("identifier", "SMELT_LOAD_WH"),
    "transform_warehouse": ("identifier", "SMELT_TRANSFORM_WH"),
    "dashboard_warehouse": ("identifier", "SMELT_DASHBOARD_WH"),
    "resource_monitor": ("identifier", "SMELT_MONTHLY"),
    "monthly_credit_quota": ("credits", "100"),
    "storage_integration": ("identifier", "SMELT_LAKE_S3"),
    "lake_url": ("lake_url", None),
    "aws_role_arn": ("aws_role_arn", None),
    "loader_role": ("identifier", "SMELT_LOADER"),
    "transformer_role": ("identifier", "SMELT_TRANSFORMER"),
    "reporter_role": ("identifier", "SMELT_REPORTER"),
    "loader_user": ("identifier", "SMELT_LOADER_SVC"),
    "transformer_user": ("identifier", "SMELT_TRANSFORMER_SVC"),
    "reporter_user": ("identifier", "SMELT_REPORTER_SVC"),
    "loader_public_key": ("public_key", None),
    "transformer_public_key": ("public_key", None),
    "reporter_public_key": ("public_key", None),
}

_VARIABLE = re.compile(r"&\{\s*([a-z_]+)\s*\}")
_PEM = re.compile(r"-----(BEGIN|END) PUBLIC KEY-----|\s+")


class ScriptError(ValueError):
    """A parameter is missing, unknown or malformed; the message names it."""


def public_key_body(pem_or_base64: str) -> str:
    """The base64 body Snowflake's RSA_PUBLIC_KEY wants, from a PEM file's text or the body itself."""
    return _PEM.sub("", pem_or_base64)


def script(name: str) -> str:
    if name not in SCRIPTS:
        raise ScriptError(f"unknown script {name!r}; expected one of {', '.join(SCRIPTS)}")
    path = SCRIPTS_DIR / f"{name}.sql"
    if not path.is_file():
        raise ScriptError(
            f"{path} is not here: the account scripts come with a checkout of smelt, not the wheel"
        )
    return path.read_text()


def variables(text: str) -> set[str]:
    """The parameter names a script uses."""
    return set(_VARIABLE.findall(text))


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute every ``&{name}``; defaults fill what ``values`` lacks. Raises ScriptError naming each problem."""
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise ScriptError(
            f"unknown parameter(s) {', '.join(unknown)}; expected some of {', '.join(PARAMETERS)}"
        )
    resolved: dict[str, str] = {}
    problems: list[str] = []
    for name in sorted(variables(text)):
        if name not in PARAMETERS:
            problems.append(f"the script uses &{{{name}}}, which is no known parameter")
            continue
        kind, default = PARAMETERS[name]
        value = values.get(name, default)
        if value is None:
            problems.append(f"{name} is required ({kind})")
            continue
        value = public_key_body(value) if kind == "public_key" else value.strip()
        if not re.fullmatch(_PATTERNS[kind], value):
            problems.append(f"{name}={value[:40]!r} is not a valid {kind.replace('_', ' ')}")
            continue
        resolved[name] = value
    if problems:
        raise ScriptError("cannot render the Snowflake script: " + "; ".join(problems))
    return _VARIABLE.sub(lambda m: resolved[m.group(1)], text)
