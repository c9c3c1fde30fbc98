"""Helpers of the flat-file tests: the endpoint's address and keys, a boto3 client, settings pointing at it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from workflows.settings import Settings, load_settings

#: The simulator's clock of these tests (just after this session's close): files exist for the days before.
SIM_NOW = dt.date(2026, 11, 24)


@dataclass(frozen=True)
class Endpoint:
    url: str
    key_id: str
    secret: str


def s3(endpoint: Endpoint) -> Any:
    return boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1",
                        aws_access_key_id=endpoint.key_id, aws_secret_access_key=endpoint.secret)  # fmt: skip


def flatfile_settings(home: Path, endpoint: Endpoint, bucket: str, **overrides: Any) -> Settings:
    return load_settings(**{
        "home": home, "log_format": "json", "sim_now": SIM_NOW,
        "polygon_flatfiles_endpoint_url": endpoint.url, "polygon_flatfiles_bucket": bucket,
        "polygon_flatfiles_access_key_id": endpoint.key_id,
        "polygon_flatfiles_secret_access_key": endpoint.secret, **overrides,
    })  # fmt: skip
