"""The exit handler's step times: parsed from Workflow objects the real Argo controller wrote (kwok cluster,
tests/argo/data/), read over HTTP as the pod's ServiceAccount from a real local server, and a report that is
still written, saying why, when they cannot be read."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import pytest
from typer.testing import CliRunner

from workflows import run_reports
from workflows.argo import report
from workflows.argo.incluster import InCluster, WorkflowUnreadable
from workflows.argo.node_times import NodesUnavailable, step_times
from workflows.cli import app
from workflows.lake import open_storage
from workflows.settings import load_settings

DATA = Path(__file__).parent / "data"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.sa-token-never-logged.sig"


def _workflow(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / name).read_text()))


def test_a_retried_run_lists_every_attempt_with_its_times_and_exit_code() -> None:
    workflow = _workflow("workflow-retried.json")
    steps = step_times(workflow)
    pods = [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod"]
    assert len(steps) == len(pods) == 9  # resolve, stocks, SPY, QQQ, load twice, transform, publish, report
    loads = [s for s in steps if s.step == "load"]
    assert [(s.node, s.template, s.phase, s.exit_code, s.attempt, s.attempts) for s in loads] == [
        ("load(0)", "load", "Failed", 1, 1, 2),
        ("load(1)", "load", "Succeeded", 0, 2, 2),
    ]
    options = sorted(s.step for s in steps if s.template == "ingest-options-one")
    assert options == ["underlying(0:SPY)", "underlying(1:QQQ)"]  # the fan-out's items, each its own step
    for step in steps:
        node = next(n for n in pods if n["displayName"] == step.node)
        assert step.started_at == node["startedAt"].replace("Z", "+00:00")
        assert step.seconds is not None and step.seconds >= 0
        assert step.seconds == pytest.approx(
            (run_reports_time(node["finishedAt"]) - run_reports_time(node["startedAt"])), abs=0.05
        )
    assert [s.started_at for s in steps] == sorted(s.started_at or "" for s in steps)  # start order
    assert steps[0].step == "resolve-trade-date" and steps[-1].step == "onExit"  # "<run>.onExit", shortened
    assert steps[-1].template == "report"  # the exit handler, through its templateRef


def run_reports_time(stamp: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_failed_run_names_the_failed_attempt_and_a_step_that_never_started() -> None:
    workflow = _workflow("workflow-failed.json")
    steps = step_times(workflow)
    (qqq,) = [s for s in steps if s.step == "underlying(1:QQQ)"]
    assert (qqq.phase, qqq.exit_code, qqq.attempts) == ("Failed", 3, 1)  # 3 is not retried
    assert not [s for s in steps if s.step == "load"]  # never started: no pod node


def test_the_exit_handlers_own_running_pod_has_no_finish_and_no_duration() -> None:
    workflow = _workflow("workflow-retried.json")
    (handler,) = [n for n in workflow["status"]["nodes"].values() if ".onExit(" in n["displayName"]]
    handler.update(phase="Running", finishedAt=None)
    handler.pop("outputs", None)
    last = step_times(workflow)[-1]
    assert (last.node, last.phase, last.finished_at, last.seconds, last.exit_code) == (
        handler["displayName"], "Running", None, None, None
    )  # fmt: skip


def test_compressed_nodes_are_read_and_offloaded_ones_are_named() -> None:
    workflow = _workflow("workflow-retried.json")
    nodes = workflow["status"].pop("nodes")
    workflow["status"]["compressedNodes"] = base64.b64encode(
        gzip.compress(json.dumps(nodes).encode())
    ).decode()
    assert step_times(workflow) == step_times(_workflow("workflow-retried.json"))
    workflow["status"] = {"offloadNodeStatusVersion": "fnv:123", "phase": "Running"}
    with pytest.raises(NodesUnavailable, match="offloaded to Argo's database"):
        step_times(workflow)


@dataclass
class ApiServer:
    """A local stand-in for the API server's one route: what it answers, what it was asked."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def api() -> Iterator[ApiServer]:
    state = ApiServer(body=(DATA / "workflow-retried.json").read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, self.headers.get("Authorization")))
            time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _pod(api: ApiServer, tmp_path: Path, **kw: Any) -> InCluster:
    (tmp_path / "token").write_text(TOKEN + "\n")
    return InCluster(api.url, tmp_path / "token", None, "smelt", **kw)


def test_the_workflow_is_read_with_the_pods_token_from_its_namespace(api: ApiServer, tmp_path: Path) -> None:
    name = "smelt-daily-0c1f3e"
    steps, why = report.run_steps(name, cluster=lambda: _pod(api, tmp_path))
    assert why is None and len(steps) == 9
    assert api.seen == [(f"/apis/argoproj.io/v1alpha1/namespaces/smelt/workflows/{name}", f"Bearer {TOKEN}")]


@pytest.mark.parametrize(
    ("status", "body", "delay", "why"),
    [
        (403, b'{"kind":"Status","reason":"Forbidden"}', 0.0,
         "403: the pod's ServiceAccount may not get workflows in smelt (the pipeline chart's report Role grants it)"),
        (404, b"{}", 0.0, "404 Not Found reading workflow w"),
        (200, b"<html>", 0.0, "the API server's answer is not JSON"),
        (200, b"[]", 0.0, "the API server's answer is not an object"),
        (200, b"{}", 1.0, "the API server did not answer within 0.2s"),
        (200, b'{"status": {"compressedNodes": "not gzip"}}', 0.0, "unreadable compressedNodes (Error)"),
    ],
)  # fmt: skip
def test_what_goes_wrong_is_one_line_and_never_the_token(
    api: ApiServer, tmp_path: Path, status: int, body: bytes, delay: float, why: str
) -> None:
    api.status, api.body, api.delay = status, body, delay
    steps, reason = report.run_steps("w", cluster=lambda: _pod(api, tmp_path, timeout=0.2))
    assert (steps, reason) == ([], why)


def test_outside_a_pod_or_without_its_mount_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(WorkflowUnreadable, match="not in a cluster"):
        InCluster.from_pod(tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(WorkflowUnreadable, match=f"no ServiceAccount mounted at {tmp_path}"):
        InCluster.from_pod(tmp_path)
    (tmp_path / "namespace").write_text("smelt-prod\n")
    pod = InCluster.from_pod(tmp_path)
    assert (pod.server, pod.namespace, pod.token_file) == (
        "https://[fd00::1]:443",
        "smelt-prod",
        tmp_path / "token",
    )
    with pytest.raises(WorkflowUnreadable, match="no ServiceAccount token at"):
        pod.workflow("w")  # no token file: nothing is sent


def test_the_exit_handler_stores_its_report_without_steps_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: ApiServer
) -> None:
    """As in a pod whose account lacks the Role: the report is stored, exit 0, the reason in the report and
    one warning; the token in neither."""
    from workflows.argo import incluster

    (tmp_path / "sa").mkdir()
    (tmp_path / "sa" / "namespace").write_text("smelt")
    (tmp_path / "sa" / "token").write_text(TOKEN)
    (tmp_path / "sa" / "ca.crt").write_bytes(Path(certifi.where()).read_bytes())  # a CA bundle, as mounted
    monkeypatch.setattr(incluster, "SERVICE_ACCOUNT_DIR", tmp_path / "sa")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", api.url.rsplit(":", 1)[1])  # plain HTTP: TLS fails
    done = CliRunner().invoke(app, ["argo", "report", "--workflow", "smelt-daily-x", "--status", "Succeeded",
                                    "--start", "2026-11-24", "--end", "2026-11-24",
                                    "--started", "2026-11-24T23:30:05Z", "--out-dir", str(tmp_path / "o")])  # fmt: skip
    assert done.exit_code == 0, done.output
    (stored,) = run_reports.recent(open_storage(load_settings().lake), run_reports.RUNS_PREFIX)
    assert (
        stored["steps"] == [] and stored["steps_unavailable"] == "cannot reach the API server (ConnectError)"
    )
    assert "report: no step durations" in done.output and "ConnectError" in done.output  # the log, on stderr
    assert TOKEN not in done.output
