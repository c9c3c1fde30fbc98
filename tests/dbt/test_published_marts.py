"""The marts the dashboard reads are declared twice, once per side of the contract: in dbt (an enforced
contract and the `published` tag) and in workflows/marts_contract.py (what publish copies and the dashboard
may name). The two lists must agree, and every column of a published mart must carry its type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflows.marts_contract import MART_NAMES

MARTS_YAML = Path(__file__).resolve().parents[2] / "dbt" / "models" / "marts" / "_marts__models.yml"


def contracted(models: list[dict[str, Any]]) -> set[str]:
    return {m["name"] for m in models if ((m.get("config") or {}).get("contract") or {}).get("enforced")}


def tagged(models: list[dict[str, Any]]) -> set[str]:
    return {m["name"] for m in models if "published" in (m.get("config") or {}).get("tags", [])}


def test_the_dbt_contracts_and_the_published_list_agree() -> None:
    models = yaml.safe_load(MARTS_YAML.read_text())["models"]
    assert contracted(models) == MART_NAMES
    assert tagged(models) == MART_NAMES


def test_every_column_of_a_published_mart_has_a_type() -> None:
    models = yaml.safe_load(MARTS_YAML.read_text())["models"]
    untyped = [
        f"{m['name']}.{c['name']}"
        for m in models
        if m["name"] in MART_NAMES
        for c in m["columns"]
        if not c.get("data_type")
    ]
    assert not untyped
