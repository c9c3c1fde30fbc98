"""Cluster fixtures: the local control plane (tests/tooling.py) and a namespace with the pipeline chart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.support import Cluster
from tests.tooling import kubeconfig  # noqa: F401 - the session fixture


@pytest.fixture(scope="module")
def pipeline(kubeconfig: Path) -> Iterator[Cluster]:  # noqa: F811
    """A fresh namespace with the pipeline chart installed (local profile: DuckDB, simulator, MinIO)."""
    cluster = Cluster(kubeconfig, f"smelt-{uuid.uuid4().hex[:8]}")
    cluster.kubectl("create", "namespace", cluster.namespace)
    cluster.install_pipeline()
    yield cluster
    cluster.kubectl(
        "delete", "workflows,cronworkflows,workflowtemplates", "--all", "--wait=false", check=False
    )
