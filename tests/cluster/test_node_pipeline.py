"""The pipeline's own objects on the real node: both charts installed with ``helm install`` (ci/node.yaml
profiles), ``smelt-daily`` run by Argo as real pods from the pipeline image, and what those containers did.

One install and three runs of the same trading day serve every assertion (the suite's cost is the runs):

* run 1, clean: Succeeded, and the marts in the DuckDB file on the node's volume equal ``smelt run``'s for the
  same day, underlyings, market seed and clock (row count and a hash per mart);
* run 2: the transform pod is deleted while dbt builds; Argo retries it and the marts are unchanged;
* run 3: fails for real (the simulator, upgraded with a data fault, breaks every option snapshot), then
  ``argo retry`` after the fault is removed re-runs only what failed and the marts are unchanged again.

Around them: the simulator and dashboard Deployments (the dashboard's ``/readyz`` and one page in Chromium),
the steps' security contexts in a real container, and ``smelt doctor``.

No External Secrets controller can run on the node (v0.16.2, the one the Go module proxy serves, predates
external-secrets.io/v1, which the chart keeps): the test creates the Secrets it would (smelt-polygon, smelt-s3)
and marks the ExternalSecrets synced, as tests/cluster/test_doctor.py does on the kwok plane. The lake is on
S3, on moto's server (images/s3) in the cluster. A missing tool or image fails, never skips.

The commands are docs/kubernetes.md's walk-through (``WALKTHROUGH`` lists the ones run here verbatim).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
import yaml

from tests.cluster.realnode import NODE_DIR, node_kubeconfig  # noqa: F401 - fixture
from tests.pipeline.support import mart_fingerprints
from tests.tooling import ROOT, await_build, run, tool

pytestmark = pytest.mark.cluster

DAY = "2026-11-24"  # the simulator's pinned clock in ci/node.yaml (simulator.now)
UNDERLYINGS = ["SPY", "QQQ"]
IMAGES = ("localhost/smelt-pipeline:dev", "localhost/smelt-dashboard:dev", "localhost/smelt-s3:dev")
SOCK = NODE_DIR / "containerd" / "containerd.sock"
DASHBOARD = "http://127.0.0.1:18050"  # charts/dashboard/ci/node.yaml: hostNetwork, dashboard.port
FAULT = "drop=details,paths=/v3/snapshot"  # a data error (exit 3): Argo does not retry it, the run fails
PIPELINE, DASH = ROOT / "charts" / "pipeline", ROOT / "charts" / "dashboard"


@dataclass
class Install:
    kubeconfig: Path
    namespace: str
    volume: Path
    reference_home: Path
    reference: subprocess.Popen[str]
    timings: dict[str, float] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        return run(
            [tool("kubectl"), "-n", self.namespace, *args], input=input, env=self.env(), check=check
        ).stdout

    def helm(self, *args: str | Path, timeout: float = 300) -> str:
        return run([tool("helm"), "-n", self.namespace, *args], env=self.env(), timeout=timeout).stdout

    def argo(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        return run(
            [tool("argo"), "-n", self.namespace, *args], env=self.env(), timeout=timeout, check=check
        ).stdout

    def pipeline_values(self, *more: str) -> list[str | Path]:
        return ["-f", PIPELINE / "ci" / "local.yaml", "-f", PIPELINE / "ci" / "node.yaml",
                "--set", f"duckdb.hostPath={self.volume}", *more]  # fmt: skip

    def submit(self) -> str:
        """``argo submit --from workflowtemplate/smelt-daily`` for the fixed day; the workflow's name."""
        return self.argo("submit", "--from", "workflowtemplate/smelt-daily", "-p", f"trade-date={DAY}",
                         "-p", f"underlyings={json.dumps(UNDERLYINGS)}", "-o", "name").strip()  # fmt: skip

    def workflow(self, name: str) -> dict[str, Any]:
        return dict(json.loads(self.kubectl("get", "workflow", name, "-o", "json")))

    def wait(self, name: str, timeout: float = 300) -> dict[str, Any]:
        self.argo("wait", name, timeout=timeout, check=False)
        workflow = self.workflow(name)
        assert workflow["status"]["phase"] in ("Succeeded", "Failed", "Error"), self.argo("get", name)
        return workflow

    def warehouse(self) -> Path:
        return self.volume / "warehouse.duckdb"


def _ports_free() -> None:
    """The node profile's servers bind fixed loopback ports: one install at a time on the node."""
    import socket

    for port in (18700, 19000, 18050):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"127.0.0.1:{port} is taken: another node-profile install runs (kubectl get ns)")


def _import_images() -> None:
    """This checkout's images in the node's containerd: ``make images`` with its import, never what an earlier
    checkout left there (the tag is the same ``dev``). Warm, buildah's layer cache makes it a re-export check
    and an import."""
    if not shutil.which("ctr") or not SOCK.exists():
        pytest.fail(f"no containerd at {SOCK}: SMELT_NODE=real make cluster-up")
    await_build("images")
    run([ROOT / "scripts" / "images" / "build.sh", "pipeline", "dashboard", "s3"],
        env={"SMELT_CONTAINERD_SOCK": str(SOCK)}, timeout=2400)  # fmt: skip
    listed = run(["ctr", "-a", str(SOCK), "-n", "k8s.io", "images", "ls", "-q"]).stdout.split()
    assert not [i for i in IMAGES if i not in listed], listed


def _play_external_secrets(cluster: Install) -> None:
    """What ESO would do: the Secrets its ExternalSecrets name (moto's server accepts any credentials), and
    their Ready status. The values are throwaway; nothing real is ever needed on the node."""
    secret = uuid.uuid4().hex
    cluster.kubectl(
        "create", "secret", "generic", "smelt-polygon", "--from-literal=api-key=simulator-accepts-any-key"
    )
    cluster.kubectl("create", "secret", "generic", "smelt-s3", "--from-literal=AWS_ACCESS_KEY_ID=smelt",
                    f"--from-literal=AWS_SECRET_ACCESS_KEY={secret}", "--from-literal=MINIO_ROOT_USER=smelt",
                    f"--from-literal=MINIO_ROOT_PASSWORD={secret}")  # fmt: skip


def _mark_external_secrets_ready(cluster: Install) -> None:
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced",
                                        "message": "created by the test (no ESO controller on the node)",
                                        "lastTransitionTime": "2026-11-24T00:00:00Z"}]}}  # fmt: skip
    for name in cluster.kubectl("get", "externalsecrets", "-o", "name").split():
        cluster.kubectl("patch", name, "--subresource", "status", "--type", "merge", "-p", json.dumps(ready))


def _reference_run(home: Path) -> subprocess.Popen[str]:
    """``smelt run`` of the same day in one process: same market seed and clock as the chart's simulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "AWS_"))}
    env |= {"SMELT_HOME": str(home), "SMELT_SOURCE": "simulator", "SMELT_SIM_SEED": "7", "SMELT_SIM_NOW": DAY,
            "SMELT_WAREHOUSE": "duckdb", "SMELT_LOG_FORMAT": "json"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "workflows", "run", "--start", DAY, "--end", DAY,
                             "--underlyings", ",".join(UNDERLYINGS)], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def fingerprints(warehouse: Path) -> dict[str, tuple[int, str]]:
    # a copy: the dashboard or a step may hold the file; DuckDB's reader wants it quiet
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "w.duckdb"
        shutil.copy(warehouse, copy)
        settings = SimpleNamespace(duckdb=SimpleNamespace(path=copy))
        return mart_fingerprints(settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def installed(node_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:  # noqa: F811
    _import_images()
    _ports_free()
    namespace = f"smelt-{uuid.uuid4().hex[:6]}"
    volume = NODE_DIR / "volumes" / namespace
    volume.mkdir(parents=True)
    os.chown(volume, 10001, 10001)  # the steps run as 10001; a hostPath volume gets no fsGroup
    reference_home = tmp_path_factory.mktemp("reference")
    # in parallel with the install and the first run: the suite waits for the slower of the two only
    cluster = Install(node_kubeconfig, namespace, volume, reference_home, _reference_run(reference_home))
    started = time.monotonic()
    cluster.kubectl("create", "namespace", namespace)
    _play_external_secrets(cluster)
    cluster.helm("install", "smelt", PIPELINE, *cluster.pipeline_values(), "--wait", "--timeout", "4m")
    _mark_external_secrets_ready(cluster)
    cluster.timings["helm install pipeline"] = time.monotonic() - started
    try:
        yield cluster
    finally:
        cluster.reference.kill()
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        run([tool("kubectl"), "delete", "pv", f"smelt-home-{namespace}", "--wait=false"],
            env=cluster.env(), check=False)  # fmt: skip
        shutil.rmtree(volume, ignore_errors=True)


@pytest.fixture(scope="module")
def reference_marts(installed: Install) -> dict[str, tuple[int, str]]:
    _, err = installed.reference.communicate(timeout=600)
    assert installed.reference.returncode == 0, err[-3000:]
    return fingerprints(installed.reference_home / "warehouse.duckdb")


@pytest.fixture(scope="module")
def first_run(installed: Install) -> dict[str, Any]:
    started = time.monotonic()
    name = installed.submit()
    workflow = installed.wait(name)
    installed.timings["smelt-daily submit -> Succeeded"] = time.monotonic() - started
    return workflow


def pod_nodes(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod"]


def step_of(node: dict[str, Any]) -> str:
    """A pod node's step: its display name without the retry attempt, and `underlying(...)` for the
    options fan-out ("load(1)" -> "load", "underlying(0:SPY)(0)" -> "underlying")."""
    return str(node["displayName"]).split("(")[0]


def test_smelt_daily_succeeds_on_real_pods_with_the_marts_of_smelt_run(
    installed: Install, first_run: dict[str, Any], reference_marts: dict[str, tuple[int, str]]
) -> None:
    name = first_run["metadata"]["name"]
    assert first_run["status"]["phase"] == "Succeeded", installed.argo("get", name)
    steps = sorted(n["displayName"] for n in pod_nodes(first_run))
    assert len(steps) == 1 + 1 + len(UNDERLYINGS) + 1 + 1 + 1 + 1, (
        steps
    )  # resolve, stocks, options, load, transform, publish, report
    # every pod really ran a container that exited 0 (kwok would have no exit codes)
    assert all(n["phase"] == "Succeeded" for n in pod_nodes(first_run))
    marts = fingerprints(installed.warehouse())
    assert marts and all(rows > 0 for rows, _ in marts.values()), marts
    assert marts == reference_marts
    # the warehouse file was written by the steps' user, 10001, on the node's volume
    assert installed.warehouse().stat().st_uid == 10001


def test_the_lake_is_on_the_in_cluster_s3_server(installed: Install, first_run: dict[str, Any]) -> None:
    env = installed.kubectl("get", "configmap", "smelt-pipeline-env", "-o", "json")
    data = json.loads(env)["data"]
    assert (
        data["SMELT_LAKE_URL"] == "s3://smelt-lake"
        and data["SMELT_S3_ENDPOINT_URL"] == "http://127.0.0.1:19000"
    )
    import boto3

    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:19000", region_name="us-east-1",
                      aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="smelt-lake")
            for o in page.get("Contents", [])]  # fmt: skip
    run_id = first_run["metadata"]["name"]
    assert any(run_id in k and "option_snapshots" in k for k in keys), keys[:20]


def _lake_object(key_suffix: str) -> dict[str, Any]:
    """The JSON object of the in-cluster lake (moto's S3 server) whose key ends with ``key_suffix``."""
    import boto3

    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:19000", region_name="us-east-1",
                      aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="smelt-lake", Prefix="_smelt/runs/")
            for o in page.get("Contents", [])]  # fmt: skip
    (key,) = [k for k in keys if k.endswith(key_suffix)]
    return dict(json.loads(s3.get_object(Bucket="smelt-lake", Key=key)["Body"].read()))


def test_the_run_report_carries_every_steps_times_read_by_the_exit_handler(
    installed: Install, first_run: dict[str, Any]
) -> None:
    """The exit handler, as the chart's `smelt-report` account, read its Workflow through the in-pod API
    address and stored each Pod node's times in the run's report (decisions 114, 115)."""
    import datetime as dt

    name = first_run["metadata"]["name"]
    report = _lake_object(f"-{name}.json")
    assert report["status"] == "Succeeded" and report["steps_unavailable"] is None, report[
        "steps_unavailable"
    ]
    pods = {n["displayName"]: n for n in pod_nodes(first_run)}
    steps = {s["node"]: s for s in report["steps"]}
    assert set(steps) == set(pods)  # every pod node, the exit handler's own included

    def at(stamp: str) -> dt.datetime:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    for node, step in steps.items():
        if ".onExit" in node:  # its own pod, still running while it read the Workflow
            assert step["finished_at"] is None and step["seconds"] is None, step
            continue
        assert (step["phase"], step["exit_code"], step["attempt"], step["attempts"]) == (
            "Succeeded",
            0,
            1,
            1,
        ), step
        took = (at(pods[node]["finishedAt"]) - at(pods[node]["startedAt"])).total_seconds()
        assert step["seconds"] == pytest.approx(took, abs=0.05) and step["seconds"] >= 0, step
    assert {s["step"] for s in report["steps"]} == {"resolve-trade-date", "ingest-stocks", "underlying(0:SPY)",
                                                   "underlying(1:QQQ)", "load", "transform", "publish", "onExit"}  # fmt: skip


def _kill_when_running(cluster: Install, workflow: str, step: str, timeout: float = 240) -> tuple[str, str]:
    """Delete the step's pod while its main container runs, at least 11 s after the pod started; the pod's
    name and uid. Argo's controller re-creates the pod of a node whose pod vanishes within 10 s of its start
    (RECENTLY_STARTED_POD_DURATION); later, the node is an Error ("pod deleted"), which the templates' retry
    expression retries. Waiting past that window exercises the retry strategy itself."""
    deadline = time.monotonic() + timeout
    selector = f"workflows.argoproj.io/workflow={workflow},smelt.dev/step={step}"
    first_seen: dict[str, float] = {}  # monotonic: the session's clock is fixed, and polling starts early
    while time.monotonic() < deadline:
        pods = json.loads(cluster.kubectl("get", "pods", "-l", selector, "-o", "json"))["items"]
        for pod in pods:
            age = time.monotonic() - first_seen.setdefault(pod["metadata"]["uid"], time.monotonic())
            main = [s for s in pod["status"].get("containerStatuses", []) if s["name"] == "main"]
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                pytest.fail(f"{step} finished before it could be killed: {pod['status']['phase']}")
            if main and "running" in main[0]["state"] and age >= 11:
                cluster.kubectl("delete", "pod", pod["metadata"]["name"], "--grace-period=1", "--wait=false")
                return str(pod["metadata"]["name"]), str(pod["metadata"]["uid"])
        time.sleep(0.2)
    pytest.fail(f"{step} of {workflow} never ran within {timeout}s")


def test_a_transform_killed_mid_run_is_retried_and_lands_every_row_once(
    installed: Install, first_run: dict[str, Any], reference_marts: dict[str, tuple[int, str]]
) -> None:
    name = installed.submit()
    # transform, the longest step (dbt builds every model for ~20 s): killed in the middle of its build; a
    # load is over within a second or two of its container starting, too soon to catch reliably
    killed, uid = _kill_when_running(installed, name, "transform")
    workflow = installed.wait(name)
    assert workflow["status"]["phase"] == "Succeeded", installed.argo("get", name)
    attempts = [n for n in pod_nodes(workflow) if step_of(n) == "transform"]
    seen = [
        (n["displayName"], n["phase"], n.get("message"), n.get("outputs", {}).get("exitCode"))
        for n in attempts
    ]
    # the retry strategy's doing: the killed attempt is an Error ("pod deleted") or, when the wait container saw
    # main exit on SIGTERM first, Failed with exit code 143, which the retry expression retries too
    assert sorted(n["phase"] for n in attempts) in (["Error", "Succeeded"], ["Failed", "Succeeded"]), seen
    assert killed.startswith(name) and uid
    assert fingerprints(installed.warehouse()) == reference_marts  # same rows: nothing landed twice
    _assert_each_manifest_loaded_once(installed)


def _assert_each_manifest_loaded_once(cluster: Install) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "w.duckdb"
        shutil.copy(cluster.warehouse(), copy)
        with duckdb.connect(str(copy), read_only=True) as con:
            total, distinct = con.execute(
                "select count(*), count(distinct manifest_key) from raw.smelt_loads"
            ).fetchone()  # type: ignore[misc]
    assert total == distinct > 0


def test_argo_retry_of_a_real_failure_reruns_only_the_failed_nodes(
    installed: Install, first_run: dict[str, Any], reference_marts: dict[str, tuple[int, str]]
) -> None:
    installed.helm("upgrade", "smelt", PIPELINE, *installed.pipeline_values("--set", "simulator.faults=" + FAULT.replace(",", "\\,")),
                   "--wait", "--timeout", "3m")  # fmt: skip
    _mark_external_secrets_ready(installed)
    name = installed.submit()
    failed = installed.wait(name)
    assert failed["status"]["phase"] == "Failed", installed.argo("get", name)
    before = {n["id"]: n for n in pod_nodes(failed)}
    broken = {i for i, n in before.items() if n["phase"] in ("Failed", "Error")}
    assert {step_of(before[i]) for i in broken} == {"underlying"}, installed.argo("get", name)
    assert not [n for n in pod_nodes(failed) if step_of(n) in ("load", "transform", "publish")]

    installed.helm("upgrade", "smelt", PIPELINE, *installed.pipeline_values(), "--wait", "--timeout", "3m")
    _mark_external_secrets_ready(installed)
    installed.argo("retry", name)
    retried = installed.wait(name)
    assert retried["status"]["phase"] == "Succeeded", installed.argo("get", name)
    after = {n["id"]: n for n in pod_nodes(retried)}
    # what succeeded stays; the exit handler (report) runs again after the retry, as it must
    kept = [i for i, n in before.items() if n["phase"] == "Succeeded" and ".onExit" not in n["displayName"]]
    assert kept and all(after[i]["startedAt"] == before[i]["startedAt"] for i in kept)  # not re-run
    assert all(
        after[i]["phase"] == "Succeeded" and after[i]["startedAt"] != before[i]["startedAt"] for i in broken
    )
    assert fingerprints(installed.warehouse()) == reference_marts
    _assert_each_manifest_loaded_once(installed)


def test_the_steps_security_context_holds_in_a_real_container(
    installed: Install, first_run: dict[str, Any]
) -> None:
    """The load step's own pod spec (from the installed WorkflowTemplate), with a probe for a command."""
    template = json.loads(installed.kubectl("get", "workflowtemplate", "smelt-load", "-o", "json"))
    (load,) = [t for t in template["spec"]["templates"] if t["name"] == "load"]
    probe = ("import json, os\nout = {'uid': os.getuid(), 'gid': os.getgid()}\n"
             "for p in ('/probe', '/etc/probe', '/opt/smelt/probe', '/tmp/probe', '/var/lib/smelt/probe'):\n"
             "    try:\n        open(p, 'w').close(); os.remove(p); out[p] = 'written'\n"
             "    except OSError as e:\n        out[p] = e.errno\n"
             "status = dict(l.split(':\\t') for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
             "out |= {k: status[k].strip() for k in ('CapEff', 'NoNewPrivs', 'Seccomp')}\nprint(json.dumps(out))")  # fmt: skip
    container = load["container"] | {"name": "main", "command": ["python3", "-c", probe], "args": []}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "step-probe"},
           "spec": {"hostNetwork": True, "restartPolicy": "Never", "securityContext": load.get("securityContext", {}),
                    "containers": [container], "volumes": load["volumes"]}}  # fmt: skip
    installed.kubectl("apply", "-f", "-", input=yaml.safe_dump(pod))
    deadline = time.monotonic() + 90
    while installed.kubectl("get", "pod", "step-probe", "-o", "jsonpath={.status.phase}") not in (
        "Succeeded",
        "Failed",
    ):
        assert time.monotonic() < deadline, installed.kubectl("describe", "pod", "step-probe")
        time.sleep(0.5)
    out = json.loads(installed.kubectl("logs", "step-probe").strip().splitlines()[-1])
    erofs = 30
    assert out["uid"] == 10001 and out["gid"] == 10001
    assert out["/probe"] == out["/etc/probe"] == out["/opt/smelt/probe"] == erofs  # read-only root filesystem
    assert out["/tmp/probe"] == out["/var/lib/smelt/probe"] == "written"  # only the mounted volumes
    assert out["CapEff"] == "0000000000000000" and out["NoNewPrivs"] == "1" and out["Seccomp"] == "2"


def test_the_simulator_and_the_dashboard_run_as_deployments_over_the_published_marts(
    installed: Install, first_run: dict[str, Any]
) -> None:
    deployments = json.loads(installed.kubectl("get", "deployments", "-o", "json"))["items"]
    ready = {d["metadata"]["name"]: d["status"].get("readyReplicas") for d in deployments}
    assert ready.items() >= {"smelt-simulator": 1, "smelt-s3": 1}.items(), ready
    started = time.monotonic()
    installed.helm("install", "dashboard", DASH, "-f", DASH / "ci" / "node.yaml", "--wait", "--timeout", "3m")
    installed.timings["helm install dashboard (Ready)"] = time.monotonic() - started
    with urllib.request.urlopen(f"{DASHBOARD}/readyz", timeout=10) as ready:
        assert ready.status == 200
    pods = json.loads(installed.kubectl("get", "pods", "-l", "app.kubernetes.io/component=web", "-o", "json"))
    (pod,) = pods["items"]
    assert pod["spec"]["hostNetwork"] and pod["status"]["phase"] == "Running"

    from bench.dashboard_support import ConsoleLog, chromium, wait_for_charts

    with chromium() as browser:
        page = browser.new_page()
        console = ConsoleLog(page)
        page.goto(f"{DASHBOARD}/", wait_until="domcontentloaded")
        try:
            wait_for_charts(page, timeout=60_000)
        except Exception as exc:  # say what the browser and the pod saw, not only that a selector timed out
            logs = installed.kubectl(
                "logs", pod["metadata"]["name"], "--all-containers", "--tail=60", check=False
            )
            raise AssertionError(f"the home page did not draw: {exc}\nbrowser: {console.errors}\n"
                                 f"page: {page.inner_text('body')[:1500]}\npod log:\n{logs}") from exc  # fmt: skip
        drawn = page.locator("#page .main-svg, #page .ag-row, #page .kpi").count()
        title = page.inner_text("#page .page-title")
    assert drawn > 0 and title.strip(), title  # charts drawn from the marts the run published
    assert not console.errors, console.errors


def test_smelt_doctor_passes_against_the_real_node(
    installed: Install, first_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(installed.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    done = run([sys.executable, "-m", "workflows", "doctor", "--namespace", installed.namespace], check=False,
               env={"KUBECONFIG": str(installed.kubeconfig)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("ok   WorkflowTemplate smelt-daily", "ok   PersistentVolumeClaim smelt-home"):
        assert line in done.stdout, done.stdout


FLATFILE_DAYS = ["2026-11-20", "2026-11-23"]  # published by 11:00 New York the next day: before DAY


def _publish_vendor_flatfiles(secret: str) -> dict[str, int]:
    """The vendor's side, outside the cluster as Polygon is: ``smelt sim publish-flatfiles`` (same market seed
    as the chart's simulator) into a ``flatfiles`` bucket on the in-cluster S3 server; data lines per key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "AWS_"))}
    env |= {"SMELT_SIM_SEED": "7", "SMELT_SIM_NOW": DAY, "SMELT_UNDERLYINGS": ",".join(UNDERLYINGS),
            "POLYGON_FLATFILES_ENDPOINT_URL": "http://127.0.0.1:19000", "POLYGON_FLATFILES_BUCKET": "flatfiles",
            "POLYGON_FLATFILES_ACCESS_KEY_ID": "vendor", "POLYGON_FLATFILES_SECRET_ACCESS_KEY": secret}  # fmt: skip
    run([sys.executable, "-m", "workflows", "sim", "publish-flatfiles", "--start", FLATFILE_DAYS[0],
         "--end", FLATFILE_DAYS[-1]], env=env, timeout=300)  # fmt: skip
    import gzip

    import boto3

    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:19000", region_name="us-east-1",
                      aws_access_key_id="vendor", aws_secret_access_key=secret)  # fmt: skip
    listed = s3.list_objects_v2(Bucket="flatfiles")["Contents"]
    body = {o["Key"]: gzip.decompress(s3.get_object(Bucket="flatfiles", Key=o["Key"])["Body"].read())
            for o in listed}  # fmt: skip
    return {key: data.count(b"\n") - 1 for key, data in body.items()}  # less the header line


def test_a_flatfile_backfill_runs_on_real_pods_from_the_vendor_bucket(
    installed: Install, first_run: dict[str, Any]
) -> None:
    """``smelt-backfill -p bars=flatfiles``: one day DAG per trading day downloads the two vendor objects in a
    real pod (keys from the Secret ESO would write), the loads land every data line once, one transform."""
    secret = uuid.uuid4().hex
    published = _publish_vendor_flatfiles(secret)
    assert len(published) == 2 * len(FLATFILE_DAYS) and all(n > 0 for n in published.values()), published
    installed.kubectl("create", "secret", "generic", "smelt-flatfiles",
                      "--from-literal=POLYGON_FLATFILES_ACCESS_KEY_ID=vendor",
                      f"--from-literal=POLYGON_FLATFILES_SECRET_ACCESS_KEY={secret}")  # fmt: skip
    flatfiles = ("--set", "flatfiles.enabled=true", "--set", "flatfiles.endpointUrl=http://127.0.0.1:19000")
    installed.helm(
        "upgrade", "smelt", PIPELINE, *installed.pipeline_values(*flatfiles), "--wait", "--timeout", "3m"
    )
    _mark_external_secrets_ready(installed)
    started = time.monotonic()
    name = installed.argo("submit", "--from", "workflowtemplate/smelt-backfill", "-p", f"start={FLATFILE_DAYS[0]}",
                          "-p", f"end={FLATFILE_DAYS[-1]}", "-p", f"underlyings={json.dumps(UNDERLYINGS)}",
                          "-o", "name").strip()  # fmt: skip
    workflow = installed.wait(name, timeout=600)
    installed.timings["smelt-backfill bars=flatfiles, 2 days"] = time.monotonic() - started
    assert workflow["status"]["phase"] == "Succeeded", installed.argo("get", name)
    steps = sorted(step_of(n) for n in pod_nodes(workflow) if n["phase"] == "Succeeded")
    assert steps.count("ingest-flatfiles") == steps.count("load") == len(FLATFILE_DAYS), steps
    assert steps.count("transform") == steps.count("publish") == 1, steps
    assert not [n for n in pod_nodes(workflow) if n["displayName"].startswith("underlying(")]  # no REST bars
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "w.duckdb"
        shutil.copy(installed.warehouse(), copy)
        with duckdb.connect(str(copy), read_only=True) as con:
            landed = dict(con.execute(
                "select 'stocks', count(*) from raw.polygon_stock_day_aggs union all "
                "select 'options', count(*) from raw.polygon_option_day_aggs"
            ).fetchall())  # fmt: skip
            bars = con.execute(
                "select count(*) from marts.mart_option_chain where trade_date = ?",
                [FLATFILE_DAYS[0]],
            ).fetchone()  # type: ignore[misc]
    vendor = {"stocks": sum(n for k, n in published.items() if k.startswith("us_stocks_sip/")),
              "options": sum(n for k, n in published.items() if k.startswith("us_options_opra/"))}  # fmt: skip
    assert landed == vendor  # every data line of every object, once
    assert bars[0] > 0  # the flat-file day reached the marts
    _assert_each_manifest_loaded_once(installed)


def test_zz_report_timings(installed: Install) -> None:
    """Not an assertion: the suite's figures, printed for docs/benchmarks.md (pytest -s)."""
    print("\n" + "\n".join(f"{k}: {v:.1f}s" for k, v in installed.timings.items()))
