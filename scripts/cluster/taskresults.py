"""Stand-in for the reporting half of Argo's executor on the local control plane, where kwok runs no containers.

In a real cluster the ``wait`` container of every workflow pod writes a WorkflowTaskResult named after the
node, carrying the outputs the step produced. Here nothing runs, so the controller would wait forever on any
template that declares output parameters. When kwok moves a workflow pod to Succeeded or Failed, this writes
that WorkflowTaskResult. The values it reports are never computed: they are stated by the test, in this order:

1. the pod annotation ``kwok.smelt.dev/outputs`` (set through a Workflow's ``spec.podMetadata``), a JSON object
   ``{"<step>": {"<parameter>": "<value>"}}`` keyed by the pod label ``smelt.dev/step``;
2. for a step that annotation does not name, the ConfigMap ``kwok-outputs`` in the pod's namespace, key
   ``<step>``, value ``{"<parameter>": "<value>"}`` (also for runs a test cannot annotate, such as those a
   CronWorkflow creates);
3. the parameter's declared ``valueFrom.default``.

A declared parameter with none of these is left out, and the node stays Running, as it would if a real
step had not written its output. Stdlib only; one LIST + WATCH on pods. Env: SMELT_K8S_SERVER,
SMELT_K8S_TOKEN, SMELT_K8S_CA.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from typing import Any

SERVER = os.environ["SMELT_K8S_SERVER"].rstrip("/")
TOKEN = os.environ["SMELT_K8S_TOKEN"]
TLS = ssl.create_default_context(cafile=os.environ["SMELT_K8S_CA"])
WORKFLOW_PODS = "labelSelector=workflows.argoproj.io%2Fworkflow"
ARGO = "/apis/argoproj.io/v1alpha1"
reported: set[str] = set()  # pod uids: a node re-run by `argo retry` gets a new pod under the same node id


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def call(method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
    request = urllib.request.Request(  # noqa: S310 - SERVER is the https URL up.sh passes
        SERVER + path, method=method, data=None if body is None else json.dumps(body).encode()
    )
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Content-Type", "application/json")
    return urllib.request.urlopen(request, context=TLS, timeout=timeout)  # noqa: S310


def declared_outputs(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's output parameters, from the ARGO_TEMPLATE the controller gives the executor."""
    for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
        for env in container.get("env", []):
            if env.get("name") == "ARGO_TEMPLATE":
                template = json.loads(env["value"])
                return list(template.get("outputs", {}).get("parameters", []))
    return []


def stated_values(pod: dict[str, Any], step: str) -> dict[str, str]:
    annotation = pod["metadata"].get("annotations", {}).get("kwok.smelt.dev/outputs")
    stated = json.loads(annotation) if annotation else {}
    if step in stated:
        return {k: str(v) for k, v in stated[step].items()}
    namespace = pod["metadata"]["namespace"]
    try:
        with call("GET", f"/api/v1/namespaces/{namespace}/configmaps/kwok-outputs") as response:
            data = json.load(response).get("data", {})
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        raise
    return {k: str(v) for k, v in json.loads(data.get(step, "{}")).items()}


def outputs_for(pod: dict[str, Any]) -> dict[str, Any]:
    declared = declared_outputs(pod)
    if not declared or pod["status"]["phase"] != "Succeeded":
        return {}
    step = pod["metadata"].get("labels", {}).get("smelt.dev/step", "")
    stated = stated_values(pod, step)
    parameters = []
    for parameter in declared:
        name = parameter["name"]
        value = stated.get(name, (parameter.get("valueFrom") or {}).get("default"))
        if value is None:
            log("no value stated for output", f"{step}.{name}", "of pod", pod["metadata"]["name"])
            continue
        parameters.append({**parameter, "value": value})  # as the executor does: globalName and all
    return {"parameters": parameters} if parameters else {}


def report(pod: dict[str, Any]) -> None:
    meta, phase = pod["metadata"], pod.get("status", {}).get("phase")
    if phase not in ("Succeeded", "Failed"):
        return
    namespace, workflow = meta["namespace"], meta.get("labels", {}).get("workflows.argoproj.io/workflow")
    node_id = meta.get("annotations", {}).get("workflows.argoproj.io/node-id")
    owner = next((o for o in meta.get("ownerReferences", []) if o.get("kind") == "Workflow"), None)
    if not (workflow and node_id and owner) or meta["uid"] in reported:
        return
    result: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTaskResult",
        "metadata": {
            "name": node_id,
            "namespace": namespace,
            "labels": {
                "workflows.argoproj.io/workflow": workflow,
                "workflows.argoproj.io/report-outputs-completed": "true",
            },
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "name": workflow,
                    "uid": owner["uid"],
                }
            ],
        },
    }
    outputs = outputs_for(pod)
    if outputs:
        result["outputs"] = outputs
    results = f"{ARGO}/namespaces/{namespace}/workflowtaskresults"
    try:
        try:
            call("POST", results, result).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise
            # The node ran before (`argo retry` re-runs it under the same id): replace what it reported,
            # as the executor patches its own result.
            current = json.load(call("GET", f"{results}/{node_id}"))
            result["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            call("PUT", f"{results}/{node_id}", result).close()
        log("reported", f"{namespace}/{node_id}", json.dumps(outputs) if outputs else "")
    except urllib.error.HTTPError as exc:
        log("could not report", f"{namespace}/{node_id}", exc.code, exc.read()[:300])
        return
    reported.add(meta["uid"])


def main() -> None:
    while True:
        try:
            with call("GET", f"/api/v1/pods?{WORKFLOW_PODS}") as response:
                pods = json.load(response)
            for pod in pods["items"]:
                report(pod)
            version = pods["metadata"]["resourceVersion"]
            watch = f"/api/v1/pods?{WORKFLOW_PODS}&watch=1&resourceVersion={version}&timeoutSeconds=300"
            with call("GET", watch, timeout=330) as stream:
                for line in stream:
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        break  # e.g. 410 Gone: list again
                    if event["type"] in ("ADDED", "MODIFIED"):
                        report(event["object"])
        except Exception as exc:  # the API server restarting, a timeout: list again
            log("listing again after", repr(exc)[:300])
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
