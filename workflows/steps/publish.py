"""The publish step: the marts the dashboard reads, as a new snapshot version (workflows/publish.py).

A step of its own after the transform, so that a failed publish is seen as such and retried alone, without
building the models again.
"""

from __future__ import annotations

from workflows import logs
from workflows.publish import PublishError, PublishReport
from workflows.publish import publish as publish_marts
from workflows.steps.errors import StepError, describe, retryable
from workflows.steps.resources import Resources


def publish(resources: Resources, *, run_id: str | None = None, full: bool = False) -> PublishReport:
    """Snapshot the marts of the last successful build; the previous snapshot stays current on failure.

    Only the partitions whose days changed are written, unless ``full`` (or a full refresh) asks for all.
    """
    with logs.bound(step="publish", run_id=run_id):
        try:
            return publish_marts(resources.settings, warehouse=resources.warehouse, full=full)
        except PublishError as exc:  # a full disk, a file gone: a retry may help
            raise StepError(str(exc), retryable=True) from exc
        except Exception as exc:  # a lock held too long, the lake unreachable
            raise StepError(f"publish: {describe(exc)}", retryable=retryable(exc)) from exc
