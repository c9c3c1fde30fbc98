"""Write each chart's README.md from its Chart.yaml and the `# --` comments of its values.yaml.

    python scripts/charts/readme.py          (after editing a values.yaml; commit the result)

helm-docs' convention, as argo-helm uses it: a `# --` comment (and the `#` lines after it) documents the key
right below it; a documented key whose value is a mapping is one row, its default shown whole. The README is
generated, never edited: tests/manifests/test_chart_docs.py fails when a README and its values.yaml disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = sorted(p.parent for p in (ROOT / "charts").glob("*/Chart.yaml"))


def documented_keys(values_text: str) -> list[tuple[str, str]]:
    """(dotted key, description) of every documented value, in file order."""
    rows: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []  # (indentation, key) of the mappings enclosing the current line
    comment: list[str] | None = None
    for line in values_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            comment = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if comment is not None:
                comment.append(stripped[1:].strip())
            continue
        if not stripped or stripped.startswith("-") or ":" not in stripped:
            comment = None if not stripped else comment
            continue
        indent = len(line) - len(line.lstrip())
        path = [(level, key) for level, key in path if level < indent]
        key = stripped.split(":", 1)[0].strip()
        path.append((indent, key))
        if comment is not None:
            rows.append((".".join(k for _, k in path), " ".join(comment)))
            comment = None
    return rows


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int" if isinstance(value, int) else "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def render(chart: Path) -> str:
    """The README of one chart."""
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    values_text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(values_text)
    lines = [
        f"# {meta['name']}",
        "",
        " ".join(str(meta["description"]).split()),
        "",
        f"Chart version {meta['version']}, app version {meta['appVersion']}, Kubernetes `{meta['kubeVersion']}`.",
    ]
    if requires := (meta.get("annotations") or {}).get("smelt.dev/requires"):
        lines += ["", f"Requires: {requires}."]
    lines += [
        "",
        "Generated from `Chart.yaml` and the `# --` comments of `values.yaml` by `scripts/charts/readme.py`:",
        "edit those and run it again, never this file.",
        "",
        "## Values",
        "",
        "| Key | Type | Default | Description |",
        "|-----|------|---------|-------------|",
    ]
    for key, description in documented_keys(values_text):
        default = _lookup(values, key)
        shown = json.dumps(default, separators=(",", ":"))
        lines.append(f"| {key} | {_type(default)} | `{_cell(shown)}` | {_cell(description)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    for chart in CHARTS:
        target = chart / "README.md"
        target.write_text(render(chart))
        print(target.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
