"""Rendering the pipeline chart for the manifest tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.tooling import ROOT, run, tool

CHART = ROOT / "charts" / "pipeline"
#: Default values plus every scenario under ci/ (argo-helm's convention).
SCENARIOS: list[Path | None] = [None, *sorted((CHART / "ci").glob("*.yaml"))]


def scenario_id(values: Path | None) -> str:
    return values.stem if values else "defaults"


@cache
def helm_template(values: Path | None, *extra: str) -> str:
    args: list[str | Path] = [tool("helm"), "template", "smelt", CHART, "--namespace", "smelt", *extra]
    if values:
        args += ["--values", values]
    return run(args).stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]
