"""Hera objects to plain manifests and YAML files: what the chart ships and what `smelt argo submit` sends.

The files are committed under charts/pipeline/files/argo/<warehouse>/ and a test re-renders them: a change
to the templates that is not re-rendered fails the build. Output is deterministic (no timestamps, sorted
file names), so re-rendering unchanged templates changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import yaml

from workflows.argo import templates
from workflows.argo.pod import Warehouse

WAREHOUSES: tuple[Warehouse, ...] = get_args(Warehouse)
HEADER = "# Rendered by `smelt argo render` from workflows/argo/ (Hera). Do not edit: change the Python and re-render.\n"


def manifests(warehouse: Warehouse, image: str | None = None) -> list[dict[str, Any]]:
    """Every WorkflowTemplate and the CronWorkflow as dicts, with ``image`` in every container if given."""
    out = [obj.to_dict() for obj in templates.all_manifests(warehouse)]
    if image:
        for manifest in out:
            for template in manifest["spec"].get("templates", []):
                if "container" in template:
                    template["container"]["image"] = image
    return out


def file_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"


def to_yaml(manifest: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(manifest, sort_keys=False, width=120)
    return HEADER + text


def render(out: Path) -> list[Path]:
    """Write ``<out>/<warehouse>/<kind>-<name>.yaml`` for both warehouses; remove files no longer rendered."""
    written: list[Path] = []
    for warehouse in WAREHOUSES:
        folder = out / warehouse
        folder.mkdir(parents=True, exist_ok=True)
        current = {file_name(m): to_yaml(m) for m in manifests(warehouse)}
        for stale in folder.glob("*.yaml"):
            if stale.name not in current:
                stale.unlink()
        for name, text in sorted(current.items()):
            path = folder / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
            written.append(path)
    return written
