"""The exit handler reads its own Workflow from the Kubernetes API, as its pod's ServiceAccount.

One GET with httpx (already in the pipeline image), authenticated by the token Kubernetes mounts into the
pod and verified against the cluster CA mounted beside it: the way the kubernetes client's in-cluster
configuration does it, without the 75 MiB client in every step's image (decision 114). Whatever goes
wrong (no token, no RBAC, a timeout) is a :class:`WorkflowUnreadable` whose message says what and never
carries the token: the report is written without steps, and the run's outcome stands.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

#: Where Kubernetes mounts a pod's ServiceAccount credentials.
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: One attempt, bounded: the report must not hang on an unreachable API server.
TIMEOUT_SECONDS = 10.0
WORKFLOWS_API = "apis/argoproj.io/v1alpha1"


class WorkflowUnreadable(RuntimeError):
    """The Workflow could not be read; the message says why in one line, without a credential."""


@dataclass(frozen=True)
class InCluster:
    """The API server and the ServiceAccount credentials a pod sees."""

    server: str
    token_file: Path
    ca_file: Path | None
    namespace: str
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_pod(cls, credentials: Path | None = None) -> InCluster:
        """The API server from the Service variables Kubernetes sets in every pod, the rest from the mount."""
        credentials = credentials or SERVICE_ACCOUNT_DIR
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise WorkflowUnreadable("not in a cluster: KUBERNETES_SERVICE_HOST/PORT are unset")
        try:
            namespace = (credentials / "namespace").read_text().strip()
        except OSError:
            raise WorkflowUnreadable(f"no ServiceAccount mounted at {credentials}") from None
        host = f"[{host}]" if ":" in host else host  # an IPv6 address
        return cls(f"https://{host}:{port}", credentials / "token", credentials / "ca.crt", namespace)

    def workflow(self, name: str) -> dict[str, Any]:
        """GET the Workflow ``name`` in this pod's namespace."""
        try:
            token = self.token_file.read_text().strip()  # read each time: kubelet rotates it
        except OSError:
            raise WorkflowUnreadable(f"no ServiceAccount token at {self.token_file}") from None
        url = f"{self.server}/{WORKFLOWS_API}/namespaces/{self.namespace}/workflows/{name}"
        try:
            with httpx.Client(verify=self._tls(), timeout=self.timeout) as client:
                response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException:
            raise WorkflowUnreadable(f"the API server did not answer within {self.timeout:g}s") from None
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise WorkflowUnreadable(f"cannot reach the API server ({type(exc).__name__})") from None
        if response.status_code == httpx.codes.FORBIDDEN:
            raise WorkflowUnreadable(
                f"403: the pod's ServiceAccount may not get workflows in {self.namespace} (the pipeline "
                "chart's report Role grants it)"
            )
        if response.status_code != httpx.codes.OK:
            raise WorkflowUnreadable(
                f"{response.status_code} {response.reason_phrase} reading workflow {name}"
            )
        try:
            found = response.json()
        except ValueError:
            raise WorkflowUnreadable("the API server's answer is not JSON") from None
        if not isinstance(found, dict):
            raise WorkflowUnreadable("the API server's answer is not an object")
        return found

    def _tls(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https://"):
            return False
        try:
            return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError):
            raise WorkflowUnreadable(f"unreadable cluster CA at {self.ca_file}") from None
