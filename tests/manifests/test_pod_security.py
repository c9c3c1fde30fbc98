"""Every pod the chart would run, Argo's step pods included, meets the restricted Pod Security Standard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifests.pods import pods, restricted_violations
from tests.manifests.support import SCENARIOS, documents, helm_template, scenario_id

pytestmark = pytest.mark.tools  # helm, kubeconform: runs after the suites that need no build


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_every_rendered_pod_is_restricted(values: Path | None) -> None:
    found = [pod for doc in documents(helm_template(values)) for pod in pods(doc)]
    step_pods = [name for name, _ in found if name.startswith("WorkflowTemplate/")]
    assert len(step_pods) >= 8  # every step template of every WorkflowTemplate
    problems = {name: restricted_violations(spec) for name, spec in found}
    assert not {name: p for name, p in problems.items() if p}


def test_the_check_catches_each_kind_of_violation() -> None:
    good = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": False,
                                                            "capabilities": {"drop": ["ALL"]}}}]}  # fmt: skip
    assert restricted_violations(good) == []
    bad = {
        "hostNetwork": True,
        "securityContext": {"runAsUser": 0},
        "volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
        "containers": [{"name": "c", "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                        "ports": [{"containerPort": 80, "hostPort": 80}]}],
    }  # fmt: skip
    found = " | ".join(restricted_violations(bad))
    for expected in ("hostNetwork", "runAsUser is 0", "hostPath", "privileged", "allowPrivilegeEscalation",
                     "drop ALL", "SYS_ADMIN", "runAsNonRoot", "seccompProfile", "hostPort"):  # fmt: skip
        assert expected in found, expected
