"""Write the JSON schemas the offline manifest checks use into tests/schemas/, from the pinned sources.

    python scripts/schemas/generate.py          (after `make tools`; commit the result)

Sources, all from the tool cache that scripts/tools/install.sh fills from the Go module proxy:
- Kubernetes: ``api/openapi-spec/swagger.json`` of the k8s.io/kubernetes module at KUBE_VERSION;
- Argo Workflows and External Secrets: the CRDs under ``$SMELT_TOOLS_DIR/crds`` (ARGO_VERSION, ESO_VERSION),
  and Argo's own ``api/jsonschema/schema.json`` from the same module, copied unchanged.

The layout is kubeconform's: ``kubernetes/<version>-standalone-strict/<kind>[-<group>]-<version>.json`` with
every ``$ref`` inlined, and ``crds/<group>/<kind>_<version>.json``. "Strict" adds ``additionalProperties:
false`` to every object that lists its properties (except where the API keeps unknown fields), so a typo
in a manifest is an error rather than a field the API server silently drops. Only the kinds the charts use
are written; add one to KINDS when a chart starts using it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "schemas"
TOOLS = Path(os.environ.get("SMELT_TOOLS_DIR") or Path.home() / ".cache" / "smelt" / "tools")

#: (group, version, kind) of the Kubernetes kinds the pipeline and dashboard charts render.
KINDS = [
    ("", "v1", "ConfigMap"), ("", "v1", "Secret"), ("", "v1", "Service"), ("", "v1", "ServiceAccount"),
    ("", "v1", "Pod"), ("", "v1", "PersistentVolumeClaim"), ("apps", "v1", "Deployment"),
    ("batch", "v1", "Job"), ("networking.k8s.io", "v1", "Ingress"), ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"), ("policy", "v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "v1", "Role"), ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
]  # fmt: skip
#: CRD kinds, by the file the tool build copies them to.
CRDS = {
    "argoproj.io": ["workflows", "workflowtemplates", "cronworkflows"],
    "external-secrets.io": ["secretstores", "clustersecretstores", "externalsecrets"],
    "generators.external-secrets.io": ["passwords"],
}
#: Where each CRD group's licence (Apache-2.0) is, in the tool cache.
LICENSES = {
    "argoproj.io": lambda pins: TOOLS / "src" / f"argo-{pins['ARGO_VERSION']}" / "LICENSE",
    "generators.external-secrets.io": lambda pins: (
        TOOLS
        / "go"
        / "mod"
        / "github.com"
        / "external-secrets"
        / f"external-secrets@{pins['ESO_VERSION']}"
        / "LICENSE"
    ),
    "external-secrets.io": lambda pins: (
        TOOLS
        / "go"
        / "mod"
        / "github.com"
        / "external-secrets"
        / f"external-secrets@{pins['ESO_VERSION']}"
        / "LICENSE"
    ),
}


def versions() -> dict[str, str]:
    text = (ROOT / "scripts" / "tools" / "versions.env").read_text()
    return dict(re.findall(r"^([A-Z_]+)=(\S+)", text, flags=re.MULTILINE))


def strict(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = (), nullable: bool = False) -> Any:
    """Inline ``$ref``s and close every object that names its properties."""
    if isinstance(node, list):
        return [strict(item, definitions, seen, nullable) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a recursive type (JSONSchemaProps): leave that level open
            return {}
        return strict(definitions[name], definitions, (*seen, name), nullable)
    if node.get("format") == "int-or-string":
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    out = {key: strict(value, definitions, seen, nullable) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if nullable and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]  # Helm writes an empty value as null; the API server accepts it
    return out


def with_identity(schema: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    return schema


def write(path: Path, schema: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


def kubernetes(version: str) -> None:
    module = TOOLS / "go" / "mod" / "k8s.io" / f"kubernetes@{version}"
    swagger = json.loads((module / "api" / "openapi-spec" / "swagger.json").read_text())
    definitions = swagger["definitions"]
    by_gvk = {
        (gvk["group"], gvk["version"], gvk["kind"]): name
        for name, definition in definitions.items()
        for gvk in definition.get("x-kubernetes-group-version-kind", [])
    }
    folder = OUT / "kubernetes" / f"{version}-standalone-strict"
    shutil.rmtree(folder, ignore_errors=True)
    for group, api, kind in KINDS:
        schema = strict(definitions[by_gvk[group, api, kind]], definitions, nullable=True)
        suffix = f"-{group.split('.')[0]}-{api}" if group else f"-{api}"
        with_identity(schema, f"{group}/{api}" if group else api, kind)
        write(folder / f"{kind.lower()}{suffix}.json", schema)
    shutil.copy(module / "LICENSE", folder / "LICENSE")


def crds() -> None:
    for group, plurals in CRDS.items():
        folder = OUT / "crds" / group
        shutil.rmtree(folder, ignore_errors=True)
        for plural in plurals:
            crd = yaml.safe_load((TOOLS / "crds" / group / f"{group}_{plural}.yaml").read_text())
            kind = crd["spec"]["names"]["kind"]
            for served in crd["spec"]["versions"]:
                if not served.get("served") or served.get("deprecated"):
                    continue
                schema = strict(served["schema"]["openAPIV3Schema"], {})
                with_identity(schema, f"{group}/{served['name']}", kind)
                write(folder / f"{kind.lower()}_{served['name']}.json", schema)
        shutil.copy(LICENSES[group](versions()), folder / "LICENSE")


def argo_schema(version: str) -> None:
    """Argo's own JSON schema of every kind (draft 2020-12), unchanged, for the schema test."""
    source = TOOLS / "src" / f"argo-{version}"
    folder = OUT / "argo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(source / "api" / "jsonschema" / "schema.json", folder / f"schema-{version}.json")
    shutil.copy(source / "LICENSE", folder / "LICENSE")
    print(f"tests/schemas/argo/schema-{version}.json")


def main() -> None:
    pins = versions()
    if not (TOOLS / "crds").is_dir():
        sys.exit(f"no CRDs under {TOOLS}/crds: run `make tools` first")
    kubernetes(pins["KUBE_VERSION"])
    crds()
    argo_schema(pins["ARGO_VERSION"])


if __name__ == "__main__":
    main()
