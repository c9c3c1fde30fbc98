"""A flat-file endpoint like the vendor's: moto's S3 in server mode, in its own process, that checks keys.

Its own process, because moto's key checking is process-wide and the session's S3 server (tests/conftest.py)
takes any key. An IAM user with S3 rights gets real (random) keys before checking is switched on, so a
wrong key or secret is answered as S3 answers it (InvalidAccessKeyId, SignatureDoesNotMatch).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import boto3
import httpx
import pytest

from tests.flatfiles.support import Endpoint, s3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def flatfile_endpoint() -> Iterator[Endpoint]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto server on {url} did not start") from None
                time.sleep(0.1)
        setup = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "setup",
                 "aws_secret_access_key": "setup"}  # fmt: skip
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="flatfiles")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="flatfiles", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="flatfiles")["AccessKey"]
        httpx.post(
            f"{url}/moto-api/reset-auth", content=b"0"
        ).raise_for_status()  # keys are checked from here
        yield Endpoint(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def bucket(flatfile_endpoint: Endpoint) -> str:
    """A fresh bucket per test: no ETag or object of another test is seen."""
    name = f"flatfiles-{uuid.uuid4().hex[:10]}"
    s3(flatfile_endpoint).create_bucket(Bucket=name)
    return name
