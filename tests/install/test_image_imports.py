"""Each image's lock holds every third-party module that its processes import when they start.

The dashboard image once lacked scipy: the strategy page began pricing with ``workflows.pricing`` (scipy), the
dashboard extra did not list it, and the pod crash-looped on the real node (tests/cluster) while every test run
from the checkout, where the dev lock has everything, passed. This checks the locks themselves, in the fast
lane: the imports a module makes when it is loaded (its body, not its functions' lazy imports, nor
``if TYPE_CHECKING``), followed through smelt's own modules from each image's entry points.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

from tests.imports import imported_names

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("workflows", "dashboard")
#: What each image runs: the modules its containers start from (Argo's steps, the simulator, gunicorn's app).
ENTRY_POINTS = {
    "requirements-dashboard.lock": ["dashboard.wsgi", "dashboard.gunicorn_conf", "dashboard.marts"],
    "requirements-pipeline.lock": [
        "workflows.cli", "workflows.cli.steps", "workflows.cli.calendar", "workflows.cli.sim",
        "workflows.steps.ingest", "workflows.steps.load", "workflows.steps.transform", "workflows.steps.publish",
        "workflows.steps.greeks", "workflows.argo.report", "workflows.argo.tradingday", "workflows.simulator.app",
        "workflows.warehouse.duckdb", "workflows.warehouse.snowflake", "workflows.dbt_runner",
    ],
}  # fmt: skip


def module_file(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    assert path.is_file(), f"{name} is not a module of the checkout"
    return path


def load_time_imports(name: str) -> set[str]:
    return imported_names(module_file(name), name, at_load=True)


def third_party_at_start(entry_points: list[str]) -> set[str]:
    """Top-level third-party module names reachable at load time from the entry points."""
    seen, todo, outside = set(), list(entry_points), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in load_time_imports(name):
            top = imported.split(".")[0]
            if top in FIRST_PARTY:
                base = ROOT.joinpath(*imported.split("."))
                if base.is_dir() or base.with_suffix(".py").is_file():  # a module, not a name from one
                    todo.append(imported)
            elif top not in sys.stdlib_module_names and top != "__future__":
                outside.add(top)
    return outside


def pinned(lock: str) -> set[str]:
    names = re.findall(r"^([A-Za-z0-9_.\-]+)==", (ROOT / lock).read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", n).lower() for n in names}


@pytest.mark.parametrize("lock", sorted(ENTRY_POINTS))
def test_the_image_lock_holds_what_its_processes_import_at_start(lock: str) -> None:
    distributions = importlib.metadata.packages_distributions()
    locked = pinned(lock)
    missing = {
        module: distributions.get(module, [module])
        for module in third_party_at_start(ENTRY_POINTS[lock])
        if not any(re.sub(r"[-_.]+", "-", d).lower() in locked for d in distributions.get(module, [module]))
    }
    assert not missing, (
        f"{lock} lacks the distributions of {missing}: add them to the image's extra, make lock"
    )


def test_the_walk_sees_an_import_made_at_load_time_and_skips_a_lazy_one() -> None:
    assert "scipy" in third_party_at_start(["workflows.pricing.bjerksund_stensland"])
    assert "dash" in third_party_at_start(["dashboard.wsgi"])
    assert "dashboard" not in {i.split(".")[0] for i in load_time_imports("workflows.cli")}
