"""The pipeline's steps: what each container runs, as plain functions of the run's resources and a trading day.

``smelt run`` calls them in order in one process; Argo calls each in its own container. Nothing here
schedules, retries a whole step or fans out across machines: that is the orchestrator's job.

* ``resources``: what every step uses (lake, warehouse, client, dbt), built once per run from settings
* ``plan``: which path each day's option chains take, decided once per run
* ``ingest``: ``ingest_stocks``, ``ingest_options``, ``backfill_options``, ``backfill_flatfiles``
* ``flatfiles``: ``ingest_flatfiles`` (the vendor's day files into the lake), the embedded endpoint
* ``load``: the day's manifests into the warehouse
* ``transform``: the computed Greeks (``greeks``), dbt build and source freshness
* ``publish``: the marts the dashboard reads, as a new snapshot
* ``run``: all of the above for a range of days
* ``source``: which source answers; ``units``: one manifest's worth of ingest; ``errors``: how steps fail
"""

from workflows.steps.errors import StepError
from workflows.steps.flatfiles import ingest_flatfiles
from workflows.steps.ingest import backfill_flatfiles, backfill_options, ingest_options, ingest_stocks
from workflows.steps.load import load
from workflows.steps.publish import publish
from workflows.steps.resources import Resources
from workflows.steps.run import RunReport, run
from workflows.steps.transform import TransformReport, transform
from workflows.steps.units import IngestReport, UnitReport

__all__ = [
    "IngestReport",
    "Resources",
    "RunReport",
    "StepError",
    "TransformReport",
    "UnitReport",
    "backfill_flatfiles",
    "backfill_options",
    "ingest_flatfiles",
    "ingest_options",
    "ingest_stocks",
    "load",
    "publish",
    "run",
    "transform",
]
