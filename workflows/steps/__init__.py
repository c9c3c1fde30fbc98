"""The pipeline's steps: what each container runs, as plain functions of settings and a trading day.

``smelt run`` calls them in order in one process; Argo calls each in its own container. Nothing here
schedules, retries a whole step or fans out across machines: that is the orchestrator's job.

* ``ingest``: ``ingest_stocks``, ``ingest_options``, ``backfill_options`` (API pages into the lake)
* ``load``: the day's manifests into the warehouse
* ``transform``: dbt build and source freshness
* ``run``: all of the above for a range of days
* ``source``: which source answers; ``units``: one manifest's worth of ingest; ``errors``: how steps fail
"""

from workflows.steps.errors import StepError
from workflows.steps.ingest import backfill_options, ingest_options, ingest_stocks
from workflows.steps.load import load
from workflows.steps.run import RunReport, run
from workflows.steps.transform import TransformReport, transform
from workflows.steps.units import IngestReport, UnitReport

__all__ = [
    "IngestReport",
    "RunReport",
    "StepError",
    "TransformReport",
    "UnitReport",
    "backfill_options",
    "ingest_options",
    "ingest_stocks",
    "load",
    "run",
    "transform",
]
