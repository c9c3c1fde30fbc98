"""The Polygon semaphore across workflows and the per-day mutex, under the real controller."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.cluster.support import Cluster, peak_overlap, pod_nodes, when

pytestmark = pytest.mark.cluster


def test_the_semaphore_bounds_polygon_calls_across_workflows(pipeline: Cluster) -> None:
    limit = 2
    pipeline.kubectl(
        "patch", "configmap", "smelt-semaphores", "-p", json.dumps({"data": {"polygon": str(limit)}})
    )
    slow = {"kwok.smelt.dev/duration": "3s"}
    days = {"resolve-trade-date": {"trade-date": "2026-11-23", "trading": "true"}}
    runs = [
        pipeline.submit("smelt-daily", {"underlyings": json.dumps(["SPY", "QQQ", "IWM"])}, slow),
        pipeline.submit("smelt-daily", {"underlyings": json.dumps(["AAPL", "MSFT"])},
                        {**slow, "kwok.smelt.dev/outputs": json.dumps(days)}),  # another day: no shared mutex
    ]  # fmt: skip
    workflows = [pipeline.wait(name, timeout=300) for name in runs]
    assert [w["status"]["phase"] for w in workflows] == ["Succeeded", "Succeeded"]
    # A node waiting for the semaphore exists without a pod; the pod is created once the lock is held.
    pods = json.loads(pipeline.kubectl("get", "pods", "-l", "smelt.dev/calls-polygon=true", "-o", "json"))[
        "items"
    ]
    calls = [(when(p["metadata"]["creationTimestamp"]), when(_finished(p))) for p in pods
             if p["metadata"]["labels"]["workflows.argoproj.io/workflow"] in runs]  # fmt: skip
    assert len(calls) == 2 + 5
    assert peak_overlap(calls) == limit  # reached, never exceeded
    # resolve, stocks, the options fan-out, load, transform, publish and the exit handler's report, per run
    assert [len(pod_nodes(w)) for w in workflows] == [6 + 3, 6 + 2]


def test_two_runs_of_one_day_serialise_on_the_day_mutex(pipeline: Cluster) -> None:
    slow = {"kwok.smelt.dev/duration": "2s"}
    first = pipeline.submit("smelt-daily", {"underlyings": json.dumps(["SPY"])}, slow)
    second = pipeline.submit("smelt-daily", {"underlyings": json.dumps(["QQQ"])}, slow)
    waited = ""
    deadline = time.monotonic() + 120
    while not waited and time.monotonic() < deadline:
        for name in (first, second):
            nodes = pipeline.get("workflow", name).get("status", {}).get("nodes", {}).values()
            waited = next(
                (n["message"] for n in nodes if "smelt-day-2026-11-24" in n.get("message", "")), waited
            )
        time.sleep(0.5)
    assert "Waiting for" in waited and "Mutex/smelt-day-2026-11-24" in waited
    # The day's DAG node exists while it waits for the lock; its first pod is created once the lock is held.
    days = []
    for name in (first, second):
        assert pipeline.wait(name)["status"]["phase"] == "Succeeded"
        pods = json.loads(
            pipeline.kubectl("get", "pods", "-l", f"workflows.argoproj.io/workflow={name}", "-o", "json")
        )
        inside = [
            p
            for p in pods["items"]
            if p["metadata"]["labels"]["smelt.dev/step"] not in ("resolve-trade-date", "report")
        ]
        days.append(
            (
                min(when(p["metadata"]["creationTimestamp"]) for p in inside),
                max(when(_finished(p)) for p in inside),
            )
        )
    assert peak_overlap(days) == 1


def _finished(pod: dict[str, Any]) -> str:
    main = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "main")
    return str(main["state"]["terminated"]["finishedAt"])
