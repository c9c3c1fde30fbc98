"""What the steps use, built once per run from settings and handed to every step (dagster's resources).

The lake, the warehouse (a factory: each user opens it as a context manager and so closes it), the market
data client (a factory: one client per fetch, its simulator clock set to the day it fetches) and dbt's
target. A step never re-opens any of them from settings, so ``smelt run`` and a single Argo step use the
same objects the same way, and a test can hand a step the resources it wants.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflows.dbt_runner import DbtTarget, dbt_target
from workflows.lake import Lake, Source
from workflows.polygon import PolygonClient
from workflows.settings import Settings
from workflows.steps.source import open_client, source_label
from workflows.warehouse import Warehouse, open_warehouse


@dataclass(frozen=True)
class Resources:
    settings: Settings
    lake: Lake
    dbt: DbtTarget

    @classmethod
    def from_settings(cls, settings: Settings) -> Resources:
        return cls(settings, Lake.open(settings.lake, settings.s3_endpoint_url), dbt_target(settings))

    @property
    def source(self) -> Source:
        """What ``_meta.source`` says on every row this run lands."""
        return source_label(self.settings)

    def warehouse(self) -> Warehouse:
        """A new, not yet connected warehouse: ``with resources.warehouse() as wh:`` releases it (and, on
        DuckDB, the file lock that dbt and the other steps wait for)."""
        return open_warehouse(self.settings)

    def client(self, day: dt.date, *, replay: bool = False) -> PolygonClient:
        """A market-data client for the configured source (``async with``), the simulator's clock at ``day``
        (``replay``: the in-process simulator's own clock too, so its snapshot shows ``day``)."""
        return open_client(self.settings, day, replay=replay)
