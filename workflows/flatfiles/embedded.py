"""A throwaway flat-file endpoint for the embedded mode: moto's S3 in server mode on a free loopback port.

It lives as long as one run, holds what the in-process simulator publishes for that run, and is reached
with real HTTP and boto3, so the ingest takes the same code path as against the vendor. Its keys guard
nothing and are safe to print. moto comes with ``make install`` (dev tools), not with the images: without it
the embedded run keeps the REST backfill path (decision 67).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from workflows.settings import FlatFilesSettings

EMBEDDED_KEY_ID = "embedded-flatfiles"
EMBEDDED_SECRET = "embedded-flatfiles-no-secret"  # noqa: S105 (guards a loopback server for one run)
EMBEDDED_BUCKET = "flatfiles"


def available() -> bool:
    """Whether this installation can run the local endpoint (moto's server is installed)."""
    return importlib.util.find_spec("moto") is not None and importlib.util.find_spec("werkzeug") is not None


@contextmanager
def local_endpoint() -> Iterator[FlatFilesSettings]:
    """Start the local endpoint; yield the flat-file settings that point at it; stop it on exit."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield FlatFilesSettings(
            endpoint_url=f"http://{host}:{port}",
            bucket=EMBEDDED_BUCKET,
            access_key_id=SecretStr(EMBEDDED_KEY_ID),
            secret_access_key=SecretStr(EMBEDDED_SECRET),
        )
    finally:
        server.stop()
