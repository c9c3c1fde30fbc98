"""No secret value in any rendered file or Argo parameter: secrets reach pods only from Secrets, as env
(secretKeyRef, secretRef) or mounted files, and the Secrets come from External Secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.manifests.support import SCENARIOS, documents, helm_template, scenario_id
from tests.tooling import ROOT

pytestmark = pytest.mark.tools  # helm, kubeconform: runs after the suites that need no build

SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL)", re.IGNORECASE)
NOT_SECRET_NAMES = {"SNOWFLAKE_PRIVATE_KEY_PATH", "AWS_ACCESS_KEY_ID"}  # a path; a key id (public half)
#: Shapes of credentials; a random token also mixes lower case and digits (names like FOO_BAR_KEY do not).
LOOKS_SECRET = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # an AWS access key id of a real user
    re.compile(r"(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])\b[A-Za-z0-9/+]{40}\b"),  # an AWS secret key
    re.compile(r"(?=[A-Za-z0-9_]*[a-z])(?=[A-Za-z0-9_]*[0-9])\b[A-Za-z0-9_]{32}\b"),  # a Polygon API key
]
#: The one value the Fake provider of the local profile holds: the simulator accepts any key.
PLACEHOLDERS = {"simulator-accepts-any-key"}


def secret_leaks(doc: dict[str, Any]) -> list[str]:
    """Where the manifest carries a secret itself instead of a reference to one."""
    leaks: list[str] = []
    where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    if doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
        leaks.append(f"{where}: a Secret with data in a rendered file")
    provider = doc.get("spec", {}).get("provider", {}) if doc.get("kind") == "SecretStore" else {}
    for entry in provider.get("fake", {}).get("data", []):
        if entry.get("value") not in PLACEHOLDERS:
            leaks.append(f"{where}: Fake provider value for {entry.get('key')} is not a known placeholder")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            name = str(node.get("name", ""))
            literal = path.endswith(("env", "parameters")) and "value" in node
            if literal and SECRET_NAME.search(name) and name not in NOT_SECRET_NAMES:
                leaks.append(f"{where}: {path}[{name}] has a literal value")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif isinstance(node, str):
            for pattern in LOOKS_SECRET:
                if pattern.search(node) and "{{" not in node:
                    leaks.append(f"{where}: {path} looks like a credential")

    walk(doc, "")
    return leaks


@pytest.mark.parametrize("values", SCENARIOS, ids=scenario_id)
def test_rendered_chart_holds_no_secret(values: Path | None) -> None:
    docs = documents(helm_template(values))
    assert not [leak for doc in docs for leak in secret_leaks(doc)]
    env = [e for doc in docs for e in _env_entries(doc)]
    polygon = [e for e in env if e["name"] == "POLYGON_API_KEY"]
    assert polygon and all(e["valueFrom"]["secretKeyRef"]["name"] == "smelt-polygon" for e in polygon)
    flatfiles = [e for e in env if e["name"].startswith("POLYGON_FLATFILES_")]
    assert flatfiles and all(e["valueFrom"]["secretKeyRef"]["name"] == "smelt-flatfiles" for e in flatfiles)
    configured = [
        d["data"] for d in docs if d["kind"] == "ConfigMap" and "SMELT_LAKE_URL" in d.get("data", {})
    ]
    assert not [k for data in configured for k in data if k.endswith(("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"))]


def test_rendered_argo_files_hold_no_secret() -> None:
    files = sorted((ROOT / "charts" / "pipeline" / "files" / "argo").rglob("*.yaml"))
    assert files
    assert not [leak for path in files for doc in documents(path.read_text()) for leak in secret_leaks(doc)]


def test_the_check_finds_each_kind_of_leak() -> None:
    key = "Q" * 8 + "a1b2c3d4e5f6g7h8" + "Z" * 8
    assert len(key) == 32
    leaky = {
        "kind": "WorkflowTemplate", "metadata": {"name": "leaky"},
        "spec": {
            "arguments": {"parameters": [{"name": "polygon-api-key", "value": "x"}]},
            "templates": [{"name": "t", "container": {"env": [{"name": "SNOWFLAKE_PASSWORD", "value": "hunter2"}],
                                                      "args": [f"--key={key}"]}}],
        },
    }  # fmt: skip
    found = " | ".join(secret_leaks(leaky))
    assert "parameters[polygon-api-key]" in found and "env[SNOWFLAKE_PASSWORD]" in found
    assert "looks like a credential" in found
    assert secret_leaks({"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}})
    assert secret_leaks({"kind": "SecretStore", "metadata": {"name": "s"},
                         "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "real"}]}}}})  # fmt: skip


def _env_entries(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(_env_entries(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_env_entries(item))
    return found
