"""`smelt argo install-templates` and `smelt argo submit` through the Argo Server API (Hera's
WorkflowsService), against a local HTTP server that answers the Argo Server paths they use, and the errors
when nothing is reachable. The path straight to the Kubernetes API runs on the real control plane
(tests/cluster)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from workflows.cli import app

PREFIXES = {"workflow-templates": "template", "cron-workflows": "cronWorkflow"}


class FakeArgoServer(BaseHTTPRequestHandler):
    """In memory: workflow-templates and cron-workflows (get, create, update), workflows (create)."""

    objects: dict[tuple[str, str, str], dict[str, Any]]
    calls: list[tuple[str, str, str]]

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> tuple[str, str, str | None]:
        parts = self.path.split("?")[0].strip("/").split("/")  # api v1 <collection> <ns> [name]
        assert parts[:2] == ["api", "v1"], self.path
        return parts[2], parts[3], (parts[4] if len(parts) > 4 else None)

    def _body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        collection, ns, name = self._route()
        self.calls.append(("GET", self.path, self.headers.get("Authorization", "")))
        found = self.objects.get((collection, ns, name or ""))
        if found is None:
            self._reply(404, {"code": 5, "message": f"{collection} {name} not found"})
        else:
            self._reply(200, found)

    def do_POST(self) -> None:
        collection, ns, _ = self._route()
        self.calls.append(("POST", self.path, self.headers.get("Authorization", "")))
        body = self._body()
        if collection == "workflows":
            obj = body["workflow"]
            obj["metadata"]["name"] = obj["metadata"]["generateName"] + f"{len(self.calls):05d}"
        else:
            obj = body[PREFIXES[collection]]
        obj["metadata"]["resourceVersion"] = "1"
        self.objects[(collection, ns, obj["metadata"]["name"])] = obj
        self._reply(200, obj)

    def do_PUT(self) -> None:
        collection, ns, name = self._route()
        self.calls.append(("PUT", self.path, self.headers.get("Authorization", "")))
        obj = self._body()[PREFIXES[collection]]
        current = self.objects[(collection, ns, name or "")]
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            self._reply(409, {"code": 10, "message": "resourceVersion mismatch"})
            return
        obj["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
        self.objects[(collection, ns, name or "")] = obj
        self._reply(200, obj)


@pytest.fixture
def argo_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeArgoServer]]:
    handler = type("Handler", (FakeArgoServer,), {"objects": {}, "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ARGO_SERVER", f"127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("ARGO_SECURE", "false")
    monkeypatch.setenv("ARGO_TOKEN", "test-token-0123")
    yield handler
    server.shutdown()


TEMPLATES = {("workflow-templates", name) for name in (
    "smelt-ingest-stocks", "smelt-ingest-options", "smelt-ingest-flatfiles", "smelt-load", "smelt-transform",
    "smelt-publish", "smelt-daily", "smelt-backfill", "smelt-validate",
)}  # not the CronWorkflows: the chart owns their schedules  # fmt: skip


def _submit(*args: str) -> Any:
    return CliRunner().invoke(app, ["argo", "submit", "--namespace", "pipelines", *args])


def _install(*args: str) -> Any:
    return CliRunner().invoke(app, ["argo", "install-templates", "--namespace", "pipelines", *args])


def _installed(server: type[FakeArgoServer]) -> set[tuple[str, str]]:
    return {(c, n) for (c, ns, n) in server.objects if ns == "pipelines" and c != "workflows"}


def test_install_templates_creates_them_then_updates_them_in_place(argo_server: type[FakeArgoServer]) -> None:
    done = _install("--image", "registry.local/smelt-pipeline:1")
    assert done.exit_code == 0, done.output
    assert _installed(argo_server) == TEMPLATES
    assert "installed workflowtemplate/smelt-daily in namespace pipelines" in done.output
    assert "cronworkflow" not in done.output
    load = argo_server.objects[("workflow-templates", "pipelines", "smelt-load")]
    assert load["spec"]["templates"][0]["container"]["image"] == "registry.local/smelt-pipeline:1"
    assert not [c for c in argo_server.objects if c[0] == "workflows"]  # installing starts no run

    again = _install("--image", "registry.local/smelt-pipeline:2")
    assert again.exit_code == 0, again.output
    puts = [path for method, path, _ in argo_server.calls if method == "PUT"]
    assert len(puts) == len(TEMPLATES)
    load = argo_server.objects[("workflow-templates", "pipelines", "smelt-load")]
    assert load["metadata"]["resourceVersion"] == "2"
    assert load["spec"]["templates"][0]["container"]["image"] == "registry.local/smelt-pipeline:2"
    assert {auth for _, _, auth in argo_server.calls} == {"Bearer test-token-0123"}


def test_submit_starts_a_run_and_installs_nothing(argo_server: type[FakeArgoServer]) -> None:
    assert _install().exit_code == 0
    installed = {key: dict(obj) for key, obj in argo_server.objects.items()}
    done = _submit("--date", "2026-11-24", "--underlyings", "SPY,QQQ")
    assert done.exit_code == 0, done.output
    (run,) = [o for (c, _, _), o in argo_server.objects.items() if c == "workflows"]
    assert run["spec"]["workflowTemplateRef"] == {"name": "smelt-daily"}
    assert {p["name"]: p["value"] for p in run["spec"]["arguments"]["parameters"]} == {
        "trade-date": "2026-11-24", "underlyings": '["SPY", "QQQ"]',
    }  # fmt: skip
    assert {k: v for k, v in argo_server.objects.items() if k[0] != "workflows"} == installed
    assert not [path for method, path, _ in argo_server.calls if method == "PUT"]
    assert {auth for _, _, auth in argo_server.calls} == {"Bearer test-token-0123"}
    assert f"submitted {run['metadata']['name']}" in done.output
    assert f"argo watch -n pipelines {run['metadata']['name']}" in done.output

    backfill = _submit("--start", "2026-11-02", "--end", "2026-11-06")
    assert backfill.exit_code == 0, backfill.output
    runs = [o for (c, _, _), o in argo_server.objects.items() if c == "workflows"]
    started = next(r for r in runs if r["spec"]["workflowTemplateRef"]["name"] == "smelt-backfill")
    params = {p["name"]: p["value"] for p in started["spec"]["arguments"]["parameters"]}
    assert (params["start"], params["end"]) == ("2026-11-02", "2026-11-06")


def test_submit_without_the_templates_says_how_to_install_them(
    argo_server: type[FakeArgoServer], capsys: pytest.CaptureFixture[str]
) -> None:
    done = _submit("--date", "2026-11-24")
    assert done.exit_code == 2
    said = done.output + capsys.readouterr().err
    assert "workflowtemplate/smelt-daily is not installed in namespace pipelines" in said
    assert "helm upgrade --install smelt charts/pipeline -n pipelines" in said
    assert "smelt argo install-templates --namespace pipelines" in said
    assert [method for method, _, _ in argo_server.calls] == ["GET"]  # nothing created
    assert argo_server.objects == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--date", "2026-11-24", "--start", "2026-11-02", "--end", "2026-11-06"],
            "give --date D for one day",
        ),
        (["--start", "2026-11-02"], "both --start and --end"),
        (["--start", "2026-11-06", "--end", "2026-11-02"], "before start"),
        (["--date", "24/11/2026"], "expected a date like"),
        (["--underlyings", "SPY;QQQ"], "--underlyings"),
    ],
)
def test_bad_arguments_exit_2_before_any_call(argo_server: type[FakeArgoServer], args: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    done = _submit(*args)
    assert done.exit_code == 2
    assert message in done.output + capsys.readouterr().err
    assert argo_server.calls == []


@pytest.mark.parametrize("command", [_submit, _install])
def test_an_unreachable_argo_server_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch, command: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("ARGO_SERVER", f"127.0.0.1:{port}")
    monkeypatch.setenv("ARGO_SECURE", "false")
    done = command("--date", "2026-11-24") if command is _submit else command()
    assert done.exit_code == 1
    assert f"cannot reach the Argo Server at http://127.0.0.1:{port}" in done.output + capsys.readouterr().err


@pytest.mark.parametrize("command", [_submit, _install])
def test_neither_argo_server_nor_kubernetes_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    done = command("--date", "2026-11-24") if command is _submit else command()
    assert done.exit_code == 2
    assert "no Argo Server and no Kubernetes API: set ARGO_SERVER" in done.output + capsys.readouterr().err
