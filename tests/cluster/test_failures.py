"""Retries under the real controller: exit code 1 is retried, 3 is not, and `argo retry` re-runs only the
failed nodes, with the same run id (so the steps resume rather than land again). Each attempt's times, as the
exit handler reads them from the API server under the chart's RBAC (decisions 114, 115)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster.support import Cluster, nodes_named, pod_nodes
from workflows.argo import pod
from workflows.argo.incluster import WorkflowUnreadable
from workflows.argo.report import run_steps

pytestmark = pytest.mark.cluster
TWO = json.dumps(["SPY", "QQQ"])


def test_a_step_failing_once_with_exit_1_is_retried_and_the_run_succeeds(
    pipeline: Cluster, tmp_path: Path
) -> None:
    """The retried run also gives the exit handler's step times, read through the real API server and the
    chart's RBAC: `smelt-report` (its account) reads the run's Pod nodes, both load attempts included; the
    steps' `smelt-workflow` gets a 403, which the report states in one line instead of failing."""
    fault = {
        "kwok.smelt.dev/fail": "load",
        "kwok.smelt.dev/fail-attempts": "1",
        "kwok.smelt.dev/exit-code": "1",
    }
    name = pipeline.submit("smelt-daily", {"underlyings": TWO}, fault)
    workflow = pipeline.wait(name)
    assert workflow["status"]["phase"] == "Succeeded", pipeline.argo("get", name)
    attempts = sorted((n["displayName"], n["phase"]) for n in nodes_named(workflow, "load"))
    assert attempts == [("load(0)", "Failed"), ("load(1)", "Succeeded")]
    assert (
        "exit code 1" in next(n for n in nodes_named(workflow, "load") if n["phase"] == "Failed")["message"]
    )

    reader = pipeline.in_cluster_as(pod.REPORT_SERVICE_ACCOUNT, tmp_path)
    steps, unavailable = run_steps(name, cluster=lambda: reader)
    assert unavailable is None
    assert len(steps) == len(pod_nodes(workflow))  # every pod node, the exit handler's own included
    loads = [s for s in steps if s.step == "load"]
    assert [(s.node, s.phase, s.exit_code, s.attempt, s.attempts) for s in loads] == [
        ("load(0)", "Failed", 1, 1, 2), ("load(1)", "Succeeded", 0, 2, 2)
    ]  # fmt: skip
    assert all(s.template == "load" and s.seconds is not None and s.seconds >= 0 for s in loads)
    finished = [s for s in steps if s.finished_at]
    assert {s.step for s in finished} >= {
        "resolve-trade-date",
        "ingest-stocks",
        "load",
        "transform",
        "publish",
    }
    assert all(s.started_at and s.started_at <= s.finished_at for s in finished)

    denied = pipeline.in_cluster_as(pod.SERVICE_ACCOUNT, tmp_path)
    with pytest.raises(WorkflowUnreadable, match="403: the pod's ServiceAccount may not get workflows"):
        denied.workflow(name)
    steps, why = run_steps(name, cluster=lambda: denied)
    assert steps == [] and why and why.startswith("403") and denied.token_file.read_text().strip() not in why


def test_a_permanent_failure_exit_3_is_not_retried(pipeline: Cluster, tmp_path: Path) -> None:
    fault = {"kwok.smelt.dev/fail": "ingest-options-one/QQQ", "kwok.smelt.dev/exit-code": "3"}
    name = pipeline.submit("smelt-daily", {"underlyings": TWO}, fault)
    workflow = pipeline.wait(name)
    assert workflow["status"]["phase"] == "Failed"
    qqq = [n for n in pod_nodes(workflow) if n["displayName"].startswith("underlying(1:QQQ)")]
    assert [(n["displayName"], n["phase"]) for n in qqq] == [("underlying(1:QQQ)(0)", "Failed")]
    assert not nodes_named(workflow, "load")  # never started: its dependency failed
    (report,) = nodes_named(workflow, f"{name}.onExit")  # retried like every step: ".onExit(0)"
    assert report["phase"] == "Succeeded"  # the exit handler still recorded the outcome
    # its report's steps name the failed attempt and its exit code, and the load that never ran is absent
    steps, _ = run_steps(name, cluster=lambda: pipeline.in_cluster_as(pod.REPORT_SERVICE_ACCOUNT, tmp_path))
    assert [(s.step, s.phase, s.exit_code, s.attempts) for s in steps if s.step == "underlying(1:QQQ)"] == [
        ("underlying(1:QQQ)", "Failed", 3, 1)
    ]
    assert "load" not in {s.step for s in steps}


def test_argo_retry_reruns_only_the_failed_nodes(pipeline: Cluster) -> None:
    """The failed step is ingest-stocks, with the options fan-out already done beside it. (A failure
    downstream of the fan-out, in load or transform, can leave the retried run Running forever on v4.0.5,
    the only v4 the Go proxy serves here: argo-workflows#16450, fixed in v4.0.8; docs/kubernetes.md.)"""
    name = pipeline.submit("smelt-daily", {"underlyings": TWO},
                           {"kwok.smelt.dev/fail": "ingest-stocks", "kwok.smelt.dev/exit-code": "3"})  # fmt: skip
    failed = pipeline.wait(name)
    assert failed["status"]["phase"] == "Failed"
    before = {n["displayName"]: n for n in pod_nodes(failed)}
    assert before["ingest-stocks(0)"]["phase"] == "Failed"
    assert "load(0)" not in before  # its dependency failed

    # Fix the cause (here: lift the injected fault where the controller keeps the run's spec), then retry
    # without parameters, as the UI's Retry button does. (`argo retry -p` would also re-expand fan-outs on
    # the failed path, by design: argo-workflows#15802.)
    lift = [{"op": "replace", "path": f"{where}/podMetadata/annotations/kwok.smelt.dev~1fail", "value": ""}
            for where in ("/spec", "/status/storedWorkflowTemplateSpec")]  # fmt: skip
    pipeline.kubectl("patch", "workflow", name, "--type", "json", "-p", json.dumps(lift))
    pipeline.argo("retry", name)
    retried = pipeline.wait(name)
    assert retried["status"]["phase"] == "Succeeded", pipeline.argo("get", name)
    after = {n["displayName"]: n for n in pod_nodes(retried)}
    for step in ("resolve-trade-date(0)", "underlying(0:SPY)(0)", "underlying(1:QQQ)(0)"):
        assert (after[step]["id"], after[step]["startedAt"]) == (
            before[step]["id"],
            before[step]["startedAt"],
        ), step
    assert after["ingest-stocks(0)"]["phase"] == "Succeeded"
    assert after["ingest-stocks(0)"]["startedAt"] >= before["ingest-stocks(0)"]["finishedAt"]
    assert after["load(0)"]["phase"] == after["transform(0)"]["phase"] == "Succeeded"
    selector = f"workflows.argoproj.io/workflow={name},smelt.dev/step=ingest-stocks"
    (pod,) = json.loads(pipeline.kubectl("get", "pods", "-l", selector, "-o", "json"))["items"]
    main = next(c for c in pod["spec"]["containers"] if c["name"] == "main")
    assert main["args"][-2:] == ["--run-id", name]  # the same run id: the step resumes, lands nothing twice
