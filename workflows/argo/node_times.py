"""A run's step attempts from its Workflow object: every Pod node's template, phase, times and exit code.

Argo gives the exit handler its failures and the run's duration as variables, but not each node's times;
those are in the Workflow's ``status.nodes`` (decision 114). Each step template has a retry strategy, so
a step is a Retry node whose Pod children are its attempts (``load(0)``, ``load(1)``); the exit handler's
own pod (step ``onExit``) is still running while it reads, so it has no finish and no duration.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections.abc import Mapping
from typing import Any

from workflows.run_reports import StepTime, exit_code_of


class NodesUnavailable(ValueError):
    """The Workflow object holds no node statuses this code can read (offloaded, or malformed)."""


def nodes_of(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``status.nodes``; Argo gzips and base64-encodes them into ``compressedNodes`` when the object nears
    etcd's size limit, and moves them to its database (``offloadNodeStatusVersion``) past that."""
    status = workflow.get("status") or {}
    if status.get("nodes"):
        return dict(status["nodes"])
    if status.get("compressedNodes"):
        try:
            return dict(json.loads(gzip.decompress(base64.b64decode(status["compressedNodes"]))))
        except (ValueError, OSError) as exc:
            raise NodesUnavailable(f"unreadable compressedNodes ({type(exc).__name__})") from None
    if status.get("offloadNodeStatusVersion"):
        raise NodesUnavailable(
            "the node statuses are offloaded to Argo's database, which this step does not read"
        )
    return {}


def step_times(workflow: Mapping[str, Any]) -> list[StepTime]:
    """Every Pod node of the run as a :class:`StepTime`, in start order (not started last, by name)."""
    nodes = nodes_of(workflow)
    # a Pod node's children are the tasks after it, so only a Retry node's children are its attempts
    retry_of = {
        child: node
        for node in nodes.values()
        if node.get("type") == "Retry"
        for child in node.get("children") or []
    }
    run = str((workflow.get("metadata") or {}).get("name") or "")
    steps = []
    for node_id, node in nodes.items():
        if node.get("type") != "Pod":
            continue
        retry = retry_of.get(node_id)
        if retry is not None:
            attempts = [c for c in retry.get("children") or [] if nodes.get(c, {}).get("type") == "Pod"]
            step, attempt, count = str(retry.get("displayName")), attempts.index(node_id) + 1, len(attempts)
        else:
            step, attempt, count = str(node.get("displayName")), 1, 1
        step = step.removeprefix(f"{run}.") if run else step  # the exit handler: "<run>.onExit" is "onExit"
        started, finished = _when(node.get("startedAt")), _when(node.get("finishedAt"))
        steps.append(StepTime(
            step=step, template=_template(node), node=str(node.get("displayName")),
            phase=str(node.get("phase") or "Pending"),
            started_at=started.isoformat() if started else None,
            finished_at=finished.isoformat() if finished else None,
            seconds=round((finished - started).total_seconds(), 1) if started and finished else None,
            exit_code=_exit_code(node), attempt=attempt, attempts=count,
        ))  # fmt: skip
    return sorted(steps, key=lambda s: (s.started_at is None, s.started_at or "", s.node))


def _template(node: Mapping[str, Any]) -> str:
    """The node's template: its own name, or the one a ``templateRef`` names (every step of smelt-daily)."""
    ref = node.get("templateRef") or {}
    return str(node.get("templateName") or ref.get("template") or "?")


def _exit_code(node: Mapping[str, Any]) -> int | None:
    """``outputs.exitCode`` when the wait container saw the main one exit, else the node's message."""
    code = (node.get("outputs") or {}).get("exitCode")
    try:
        return int(code) if code is not None else exit_code_of(str(node.get("message") or ""))
    except ValueError:
        return None


def _when(stamp: Any) -> dt.datetime | None:
    """An Argo timestamp (RFC 3339, ``Z``), or None when unset (Argo writes ``null``, or leaves it out)."""
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
