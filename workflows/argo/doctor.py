"""`smelt doctor`: check a cluster the way an operator would before the first run.

Each check names what it looked at and, when it misses, the command that fixes it. Secrets are checked by
name and key only: no value is ever read into this process's output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from workflows.argo import kube, pod, templates

CRDS = {
    "workflows.argoproj.io": "Argo Workflows",
    "workflowtemplates.argoproj.io": "Argo Workflows",
    "cronworkflows.argoproj.io": "Argo Workflows",
    "workflowtaskresults.argoproj.io": "Argo Workflows",
    "externalsecrets.external-secrets.io": "External Secrets",
    "secretstores.external-secrets.io": "External Secrets",
}
INSTALL = {
    "Argo Workflows": "install Argo Workflows (scripts/kind/create-cluster.sh, or helm install argo-workflows argo/argo-workflows)",
    "External Secrets": "install External Secrets (scripts/kind/create-cluster.sh, or helm install external-secrets external-secrets/external-secrets)",
}
TEMPLATE_NAMES = list(templates.TEMPLATE_NAMES)
#: What the Argo v4 executor does with the workflow's service account, and what it must not be able to do.
NEEDED = [("create", "argoproj.io", "workflowtaskresults"), ("patch", "argoproj.io", "workflowtaskresults")]
NOT_NEEDED = [("get", "", "secrets"), ("create", "", "pods"), ("delete", "argoproj.io", "workflows")]


class NoClusterError(RuntimeError):
    """No kubeconfig and not inside a cluster."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _clients() -> Any:
    from kubernetes import client

    try:
        kube.configure()
    except kube.NoKubernetesConfig as exc:
        raise NoClusterError(f"no Kubernetes configuration: {exc}") from None
    return client


def _missing(exc: Exception) -> bool:
    from kubernetes.client.exceptions import ApiException

    return isinstance(exc, ApiException) and exc.status == 404


def _get(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        if _missing(exc):
            return None
        raise


def run(namespace: str) -> list[Check]:
    """Every check against the cluster of the current kubeconfig (or the one this pod runs in)."""
    client = _clients()
    try:
        return list(_checks(client, namespace))
    except Exception as exc:  # unreachable API server, no permission to read: one clear line
        import urllib3

        if isinstance(exc, urllib3.exceptions.HTTPError):
            raise NoClusterError(f"cannot reach the Kubernetes API ({type(exc).__name__})") from None
        raise


def _checks(client: Any, ns: str) -> Iterator[Check]:
    core, custom = client.CoreV1Api(), client.CustomObjectsApi()
    extensions = client.ApiextensionsV1Api()
    install = f"helm upgrade --install smelt charts/pipeline -n {ns}"

    for crd, owner in CRDS.items():
        found = _get(extensions.read_custom_resource_definition, crd)
        yield Check(
            f"CRD {crd}", found is not None, "installed" if found else "not installed", INSTALL[owner]
        )

    yield from _external_secrets(core, custom, ns)

    semaphore = _get(core.read_namespaced_config_map, pod.SEMAPHORE_CONFIGMAP, ns)
    limit = ((semaphore.data or {}) if semaphore else {}).get(pod.POLYGON_SEMAPHORE_KEY, "")
    yield Check(
        f"ConfigMap {pod.SEMAPHORE_CONFIGMAP}",
        limit.isdigit() and int(limit) > 0,
        f"{pod.POLYGON_SEMAPHORE_KEY}={limit}" if semaphore else "missing",
        f"{install} (value polygonConcurrency sets the limit)",
    )
    env = _get(core.read_namespaced_config_map, pod.ENV_CONFIGMAP, ns)
    yield Check(f"ConfigMap {pod.ENV_CONFIGMAP}", env is not None, "present" if env else "missing", install)
    if env is not None and (env.data or {}).get("SMELT_SOURCE") == "polygon":
        yield _secret_key(core, ns, pod.POLYGON_SECRET, pod.POLYGON_SECRET_KEY)

    account = _get(core.read_namespaced_service_account, pod.SERVICE_ACCOUNT, ns)
    yield Check(
        f"ServiceAccount {pod.SERVICE_ACCOUNT}",
        account is not None,
        "present" if account else "missing",
        install,
    )
    if account is not None:
        yield from _permissions(client, ns)

    expected = version("smelt")
    for name in TEMPLATE_NAMES:
        found = _get(
            custom.get_namespaced_custom_object, "argoproj.io", "v1alpha1", ns, "workflowtemplates", name
        )
        yield _versioned(f"WorkflowTemplate {name}", found, expected, install)
        if name == templates.LOAD and found is not None:
            yield from _home_volume(core, ns, found)
    cron = _get(
        custom.get_namespaced_custom_object, "argoproj.io", "v1alpha1", ns, "cronworkflows", templates.DAILY
    )
    yield _versioned(f"CronWorkflow {templates.DAILY}", cron, expected, install)


def _versioned(name: str, found: dict[str, Any] | None, expected: str, fix: str) -> Check:
    if found is None:
        return Check(name, False, "not installed", fix)
    installed = found["metadata"].get("labels", {}).get(templates.VERSION_LABEL, "unknown")
    return Check(name, installed == expected, f"version {installed} (this smelt: {expected})", fix)


def _external_secrets(core: Any, custom: Any, ns: str) -> Iterator[Check]:
    try:
        listed = custom.list_namespaced_custom_object(
            "external-secrets.io",
            "v1",
            ns,
            "externalsecrets",
            label_selector="app.kubernetes.io/part-of=smelt",
        )["items"]
    except Exception as exc:
        if _missing(exc):
            return  # no CRD: reported above
        raise
    if not listed:
        yield Check("ExternalSecrets", False, f"none labelled app.kubernetes.io/part-of=smelt in {ns}",
                    f"helm upgrade --install smelt charts/pipeline -n {ns}")  # fmt: skip
    for item in listed:
        name = item["metadata"]["name"]
        conditions = {c.get("type"): c for c in item.get("status", {}).get("conditions", [])}
        ready = conditions.get("Ready", {})
        is_ready = ready.get("status") == "True"
        detail = (
            "Ready"
            if is_ready
            else f"not Ready: {ready.get('reason', 'no status yet')} {ready.get('message', '')}".strip()
        )
        yield Check(f"ExternalSecret {name}", is_ready, detail,
                    f"kubectl -n {ns} describe externalsecret {name}; check its SecretStore and the secret in the provider")  # fmt: skip
        target = item["spec"].get("target", {}).get("name") or name
        secret = _get(core.read_namespaced_secret, target, ns)
        yield Check(f"Secret {target}", secret is not None, "present" if secret else f"missing (ExternalSecret {name} creates it)",
                    f"kubectl -n {ns} describe externalsecret {name}")  # fmt: skip


def _secret_key(core: Any, ns: str, name: str, key: str) -> Check:
    secret = _get(core.read_namespaced_secret, name, ns)
    has_key = secret is not None and key in (secret.data or {})
    detail = f"has key {key}" if has_key else ("missing" if secret is None else f"has no key {key}")
    return Check(f"Secret {name}", has_key, detail, f"kubectl -n {ns} describe externalsecret {name}")


def _home_volume(core: Any, ns: str, load_template: dict[str, Any]) -> Iterator[Check]:
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for t in load_template["spec"].get("templates", [])
        for v in t.get("volumes", [])
        if "persistentVolumeClaim" in v
    }
    for claim in sorted(claims):
        found = _get(core.read_namespaced_persistent_volume_claim, claim, ns)
        yield Check(f"PersistentVolumeClaim {claim}", found is not None, "present" if found else "missing",
                    f"helm upgrade --install smelt charts/pipeline -n {ns} --set warehouse=duckdb")  # fmt: skip


def _permissions(client: Any, ns: str) -> Iterator[Check]:
    """Ask the API server, as the service account (impersonated), what it may do: SelfSubjectAccessReview."""
    from kubernetes.client.exceptions import ApiException

    api_client = client.ApiClient(client.Configuration.get_default_copy())
    api_client.set_default_header("Impersonate-User", f"system:serviceaccount:{ns}:{pod.SERVICE_ACCOUNT}")
    api_client.set_default_header("Impersonate-Group", "system:serviceaccounts")
    authorization = client.AuthorizationV1Api(api_client)

    def allowed(verb: str, group: str, resource: str) -> bool:
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    namespace=ns, verb=verb, group=group, resource=resource
                )
            )
        )
        return bool(authorization.create_self_subject_access_review(review).status.allowed)

    fix = f"helm upgrade --install smelt charts/pipeline -n {ns} (templates/role.yaml)"
    try:
        for verb, group, resource in NEEDED:
            ok = allowed(verb, group, resource)
            yield Check(
                f"{pod.SERVICE_ACCOUNT} may {verb} {resource}", ok, "allowed" if ok else "denied", fix
            )
        for verb, group, resource in NOT_NEEDED:
            ok = not allowed(verb, group, resource)
            yield Check(f"{pod.SERVICE_ACCOUNT} may not {verb} {resource}", ok,
                        "denied" if ok else "allowed: more than the executor needs", f"remove the extra rule ({fix})")  # fmt: skip
    except ApiException as exc:
        yield Check(f"{pod.SERVICE_ACCOUNT} permissions", False, f"cannot check: {exc.status} {exc.reason}",
                    "run smelt doctor as a user who may impersonate service accounts")  # fmt: skip
