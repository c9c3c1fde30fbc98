"""Finding the Kubernetes API the way kubectl does: in-cluster first, then KUBECONFIG or ~/.kube/config."""

from __future__ import annotations

import os


class NoKubernetesConfig(RuntimeError):
    """Neither in a cluster nor a usable kubeconfig."""


def configure() -> None:
    """Set the kubernetes client's default configuration, or raise :class:`NoKubernetesConfig`."""
    from kubernetes import config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            # The client reads KUBECONFIG once, at import; read it now, as kubectl does on every call.
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or "~/.kube/config")  # type: ignore[no-untyped-call]
        except (config.ConfigException, FileNotFoundError, TypeError) as exc:
            raise NoKubernetesConfig(
                f"set KUBECONFIG (or ~/.kube/config), or run inside a cluster ({type(exc).__name__}: {exc})"
            ) from None
