"""fakesnow's Snowflake emulator as a real server, one per test module, and key pairs for its clients.

The server runs in a child process (``tests/snowflake/fakesnow_server.py``): it keeps its databases in memory,
so a fresh process per module means fresh state, and a hung emulator dies with its module instead of the
session. Clients use the real snowflake-connector-python with key-pair (JWT) authentication; fakesnow accepts
any credentials, so the tests prove the client side of key-pair auth, not Snowflake's check of it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.tooling import stop
from workflows.lake import FolderStorage, Lake
from workflows.settings import load_settings
from workflows.warehouse import open_warehouse
from workflows.warehouse.snowflake import SnowflakeWarehouse

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FakeSnowflake:
    host: str
    port: int
    log: Path

    def connect_args(self, private_key_path: Path, **extra: Any) -> dict[str, Any]:
        """Arguments for ``snowflake.connector.connect`` against this server, with key-pair auth."""
        key = serialization.load_pem_private_key(private_key_path.read_bytes(), password=None)
        return {
            "account": "smelt-test",
            "user": "SMELT_LOADER_SVC",
            "host": self.host,
            "port": self.port,
            "protocol": "http",
            "authenticator": "SNOWFLAKE_JWT",
            "private_key": key,
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            "network_timeout": 30,
            **extra,
        }

    def env(self, private_key_path: Path) -> dict[str, str]:
        """The SNOWFLAKE_* settings (and dbt profile variables) that point smelt at this server."""
        return {
            "SNOWFLAKE_ACCOUNT": "smelt-test",
            "SNOWFLAKE_USER": "SMELT_TRANSFORMER_SVC",
            "SNOWFLAKE_PRIVATE_KEY_PATH": str(private_key_path),
            "SNOWFLAKE_ROLE": "SMELT_TRANSFORMER",
            "SNOWFLAKE_WAREHOUSE": "SMELT_TRANSFORM_WH",
            "SNOWFLAKE_DATABASE": "SMELT",
            "SNOWFLAKE_HOST": self.host,
            "SNOWFLAKE_PORT": str(self.port),
            "SNOWFLAKE_PROTOCOL": "http",
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def fakesnow_server(log: Path, port: int | None = None, **env: str) -> Iterator[FakeSnowflake]:
    """A fakesnow server in a child process (on ``port``, or a free one), with ``env`` added to its environment
    (the emulator's switches), terminated (then killed) on exit."""
    port = port or _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.snowflake.fakesnow_server", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"fakesnow exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fakesnow did not listen on {port} within 60 s") from None
                time.sleep(0.2)
        yield FakeSnowflake("127.0.0.1", port, log)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeSnowflake]:
    """A fakesnow server for this module only: started here, terminated (then killed) at the module's end."""
    with serve_fakesnow(tmp_path_factory) as server:
        yield server


@contextlib.contextmanager
def serve_fakesnow(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[FakeSnowflake]:
    """A fakesnow server with its log in a fresh temporary folder."""
    with fakesnow_server(tmp_path_factory.mktemp("fakesnow") / "server.log", **env) as server:
        yield server


def write_key_pair(folder: Path) -> tuple[Path, str]:
    """An unencrypted PKCS#8 private key file (as External Secrets mounts it) and the public key's PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rsa_key.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public.decode()


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return write_key_pair(tmp_path_factory.mktemp("keys"))


def script_statements(text: str) -> list[str]:
    """A script's statements, comments removed (no literal in snowflake/*.sql holds ';' or '--')."""
    body = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return [" ".join(s.split()) for s in body.split(";") if s.strip()]


#: setup.sql statements fakesnow can run; the schemas are created plainly (it cannot parse MANAGED ACCESS).
EMULATED_SETUP = ("CREATE DATABASE", "CREATE FILE FORMAT", "CREATE STAGE")
SCHEMAS = ("RAW", "STAGING", "INTERMEDIATE", "MARTS", "SNAPSHOTS")


def prepare_database(server: FakeSnowflake, private_key: Path, database: str, lake_url: str) -> None:
    """The account objects of setup.sql that the loader and dbt need, in a database of their own (no
    landing tables: the loader creates what is missing)."""
    import snowflake.connector

    from workflows.warehouse import snowflake_scripts as scripts

    values = {"database": database, "lake_url": lake_url, "aws_role_arn": "arn:aws:iam::123456789012:role/x"}
    setup = scripts.render(scripts.script("setup"), values)
    runnable = [s for s in script_statements(setup) if s.upper().startswith(EMULATED_SETUP)]
    conn = snowflake.connector.connect(**server.connect_args(private_key))
    try:
        cur = conn.cursor()
        cur.execute(runnable[0])
        for schema in SCHEMAS:
            cur.execute(f"create schema if not exists {database}.{schema}")
        for sql in runnable[1:]:
            cur.execute(sql)
    finally:
        conn.close()


# -- a loader's database, settings and warehouse (test_loader.py, test_flatfile_loader.py) ----------------------


@pytest.fixture
def database(fakesnow: FakeSnowflake, key_pair: tuple[Path, str]) -> str:
    """A database of this test's own, with setup.sql's schemas, file format and stages."""
    name = f"SMELT_{uuid.uuid4().hex[:8].upper()}"
    prepare_database(fakesnow, key_pair[0], name, "s3://smelt-lake/prod")
    return name


@pytest.fixture
def env(
    fakesnow: FakeSnowflake, key_pair: tuple[Path, str], database: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        **fakesnow.env(key_pair[0]),
        "SNOWFLAKE_USER": "SMELT_LOADER_SVC",
        "SNOWFLAKE_ROLE": "SMELT_LOADER",
        "SNOWFLAKE_WAREHOUSE": "SMELT_LOAD_WH",
        "SNOWFLAKE_DATABASE": database,
        "SMELT_WAREHOUSE": "snowflake",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def warehouse(env: dict[str, str]) -> Iterator[SnowflakeWarehouse]:
    wh = open_warehouse(load_settings())
    assert isinstance(wh, SnowflakeWarehouse)
    with wh:
        yield wh


@pytest.fixture
def query(warehouse: SnowflakeWarehouse) -> Callable[..., list[tuple[Any, ...]]]:
    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with warehouse._cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    return run


@pytest.fixture
def folder_lake(tmp_path: Path) -> Lake:
    return Lake(FolderStorage(tmp_path / "lake"))
