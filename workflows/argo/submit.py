"""`smelt argo submit` starts a run of an installed template; `smelt argo install-templates` installs them where
the pipeline chart does not (the chart is how production gets them). Both go through whichever API is reachable.

With ``ARGO_SERVER`` set (``host:port``, as the argo CLI reads it; ``ARGO_SECURE``, ``ARGO_TOKEN`` and
``ARGO_INSECURE_SKIP_VERIFY`` too) everything goes through the Argo Server with Hera's WorkflowsService;
otherwise straight to the Kubernetes API with the kubernetes client, from a kubeconfig or in-cluster.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Protocol

from workflows.argo import kube, render, templates, tradingday
from workflows.argo.pod import Warehouse
from workflows.settings import Settings, SettingsError, load_settings

GROUP, API_VERSION = "argoproj.io", "v1alpha1"
PLURALS = {"WorkflowTemplate": "workflowtemplates", "Workflow": "workflows"}


class SubmitError(RuntimeError):
    """The API refused the request or could not be reached: exit code 1."""


class SubmitArgumentError(ValueError):
    """The options do not describe a run: exit code 2."""


class NotConfiguredError(SubmitError):
    """Neither an Argo Server nor a Kubernetes configuration is available: exit code 2."""


class NotInstalledError(SubmitError):
    """The run's template is not in the namespace: exit code 2 (install the chart, or the templates)."""


@dataclass(frozen=True)
class Run:
    template: str
    parameters: dict[str, str]

    def workflow(self) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{API_VERSION}",
            "kind": "Workflow",
            "metadata": {
                "generateName": f"{self.template}-",
                "labels": {"app.kubernetes.io/part-of": "smelt"},
            },
            "spec": {
                "workflowTemplateRef": {"name": self.template},
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in self.parameters.items()]},
            },
        }


def default_image() -> str:
    return f"smelt-pipeline:{version('smelt')}"


def plan(
    settings: Settings,
    *,
    date: str | None = None,
    start: str | None = None,
    end: str | None = None,
    underlyings: str | None = None,
) -> Run:
    """Which template to run with which parameters."""
    try:
        tickers = load_settings(underlyings=underlyings).underlyings if underlyings else settings.underlyings
    except SettingsError as exc:
        raise SubmitArgumentError(str(exc).replace("SMELT_UNDERLYINGS", "--underlyings")) from None
    universe = json.dumps(list(tickers))
    if start or end:
        if date or not (start and end):
            raise SubmitArgumentError("give --date D for one day, or both --start and --end for a backfill")
        try:
            tradingday.days(start, end)
        except tradingday.TradingDayError as exc:
            raise SubmitArgumentError(str(exc)) from None
        return Run(templates.BACKFILL, {"start": start, "end": end, "underlyings": universe})
    if date:
        try:
            tradingday.resolve(date)
        except tradingday.TradingDayError as exc:
            raise SubmitArgumentError(str(exc)) from None
    return Run(templates.DAILY, {"trade-date": date or tradingday.AUTO, "underlyings": universe})


class Client(Protocol):
    def has_template(self, name: str) -> bool: ...
    def apply(self, manifest: dict[str, Any]) -> None: ...
    def create_workflow(self, workflow: dict[str, Any]) -> str: ...


def client(namespace: str) -> Client:
    if os.environ.get("ARGO_SERVER"):
        return ArgoServerClient(namespace)
    return KubernetesClient(namespace)


def submit(run: Run, namespace: str) -> str:
    """Create the run from its installed template; returns the workflow's name."""
    api = client(namespace)
    if not api.has_template(run.template):
        raise NotInstalledError(
            f"workflowtemplate/{run.template} is not installed in namespace {namespace}: install the pipeline "
            f"chart (helm upgrade --install smelt charts/pipeline -n {namespace}) or run "
            f"`smelt argo install-templates --namespace {namespace}`"
        )
    return api.create_workflow(run.workflow())


def install(warehouse: Warehouse, image: str, namespace: str) -> list[tuple[str, str]]:
    """Create or update every WorkflowTemplate; returns each (kind, name) installed.

    Not the CronWorkflow: its schedule lives in the chart's values, so only the chart installs it.
    """
    api = client(namespace)
    installed = []
    for manifest in render.manifests(warehouse, image):
        if manifest["kind"] == "CronWorkflow":
            continue
        api.apply(manifest)
        installed.append((manifest["kind"], manifest["metadata"]["name"]))
    return installed


class ArgoServerClient:
    """The Argo Server's REST API through Hera's WorkflowsService."""

    def __init__(self, namespace: str) -> None:
        from hera.workflows import WorkflowsService

        server = os.environ["ARGO_SERVER"]
        secure = os.environ.get("ARGO_SECURE", "true").lower() != "false"
        self.host = server if "://" in server else f"{'https' if secure else 'http'}://{server}"
        token = os.environ.get("ARGO_TOKEN", "")
        if token and not token.lower().startswith("bearer "):
            token = f"Bearer {token}"
        verify = os.environ.get("ARGO_INSECURE_SKIP_VERIFY", "false").lower() != "true"
        self.namespace = namespace
        self.service = WorkflowsService(
            host=self.host, token=token or None, verify_ssl=verify, namespace=namespace
        )

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        """Call the service; a read of something absent returns None, other failures raise SubmitError."""
        import requests
        from hera.exceptions import HeraException, NotFound

        try:
            return fn(*args)
        except requests.ConnectionError:
            raise SubmitError(
                f"cannot reach the Argo Server at {self.host} (ARGO_SERVER) to {what}"
            ) from None
        except NotFound:
            if what.startswith("read"):
                return None
            raise SubmitError(f"the Argo Server at {self.host} found nothing to {what}") from None
        except HeraException as exc:
            raise SubmitError(f"the Argo Server at {self.host} refused to {what}: {exc}") from None

    def has_template(self, name: str) -> bool:
        found = self._call(
            f"read WorkflowTemplate {name}", self.service.get_workflow_template, name, self.namespace
        )
        return found is not None

    def apply(self, manifest: dict[str, Any]) -> None:
        from hera.workflows import models as m

        kind, name, service, ns = manifest["kind"], manifest["metadata"]["name"], self.service, self.namespace
        # kind: (get, create, update, the object's model, create request, update request, request field)
        api: dict[str, tuple[Any, ...]] = {
            "WorkflowTemplate": (service.get_workflow_template, service.create_workflow_template,
                                 service.update_workflow_template, m.WorkflowTemplate,
                                 m.WorkflowTemplateCreateRequest, m.WorkflowTemplateUpdateRequest, "template"),
        }  # fmt: skip
        if kind not in api:
            raise SubmitError(f"cannot install a {kind}")
        get, create, update, model, create_request, update_request, field = api[kind]
        body = dict(manifest, metadata=dict(manifest["metadata"], namespace=ns))
        current = self._call(f"read {kind} {name}", get, name, ns)
        if current is None:
            self._call(
                f"create {kind} {name}", create, create_request(**{field: model.model_validate(body)}), ns
            )
            return
        body["metadata"]["resourceVersion"] = current.metadata.resource_version
        self._call(
            f"update {kind} {name}", update, name, update_request(**{field: model.model_validate(body)}), ns
        )

    def create_workflow(self, workflow: dict[str, Any]) -> str:
        from hera.workflows import models as m

        request = m.WorkflowCreateRequest(workflow=m.Workflow.model_validate(workflow))
        created = self._call("create the workflow", self.service.create_workflow, request, self.namespace)
        return str(created.metadata.name)


class KubernetesClient:
    """Argo's custom resources straight through the Kubernetes API (the controller picks them up)."""

    def __init__(self, namespace: str) -> None:
        from kubernetes import client

        try:
            kube.configure()
        except kube.NoKubernetesConfig as exc:
            raise NotConfiguredError(
                f"no Argo Server and no Kubernetes API: set ARGO_SERVER=host:port, or {exc}"
            ) from None
        self.api = client.CustomObjectsApi()
        self.namespace = namespace
        self.server = client.Configuration.get_default_copy().host

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            return fn(*args, **kwargs)
        except urllib3.exceptions.HTTPError:
            raise SubmitError(f"cannot reach the Kubernetes API at {self.server} to {what}") from None
        except ApiException as exc:
            if exc.status == 404 and what.startswith("read"):
                return None
            raise SubmitError(
                f"the Kubernetes API at {self.server} refused to {what}: {exc.status} {exc.reason}"
            ) from None

    def _read(self, kind: str, name: str) -> Any:
        where = (GROUP, API_VERSION, self.namespace, PLURALS[kind])
        return self._call(f"read {kind} {name}", self.api.get_namespaced_custom_object, *where, name)

    def has_template(self, name: str) -> bool:
        return self._read("WorkflowTemplate", name) is not None

    def apply(self, manifest: dict[str, Any]) -> None:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        where = (GROUP, API_VERSION, self.namespace, PLURALS[kind])
        current = self._read(kind, name)
        if current is None:
            self._call(f"create {kind} {name}", self.api.create_namespaced_custom_object, *where, manifest)
            return
        body = dict(
            manifest,
            metadata=dict(manifest["metadata"], resourceVersion=current["metadata"]["resourceVersion"]),
        )
        self._call(f"update {kind} {name}", self.api.replace_namespaced_custom_object, *where, name, body)

    def create_workflow(self, workflow: dict[str, Any]) -> str:
        where = (GROUP, API_VERSION, self.namespace, PLURALS["Workflow"])
        created = self._call(
            "create the workflow", self.api.create_namespaced_custom_object, *where, workflow
        )
        return str(created["metadata"]["name"])
