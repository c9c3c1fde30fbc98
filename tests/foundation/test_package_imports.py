"""The pipeline and the dashboard meet only at the marts contract: neither package imports the other's code.

Every import statement counts, including those inside functions (a lazy import is still an arrow in the
graph). The command lines are the top floor that composes both packages, so they are left out: the pipeline's
CLI loads the dashboard's commands when `smelt dashboard` runs, and those commands publish a first snapshot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.imports import imported_names, module_name

ROOT = Path(__file__).resolve().parents[2]
#: What the dashboard may use of the pipeline: the contract, the ground floor, and the pure pricing math.
DASHBOARD_MAY_IMPORT = (
    "workflows.marts_contract",
    "workflows.run_reports",  # the run reports' contract: the exit handler writes them, the Runs page reads them
    "workflows.settings",
    "workflows.logs",
    "workflows.calendar",
    "workflows.lake",
    "workflows.snowflake_login",
    "workflows.pricing",
)


def imports(path: Path) -> set[str]:
    return imported_names(path, module_name(ROOT, path))


def is_cli(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    return relative.stem == "cli" or "cli" in relative.parts[1:-1]


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if not is_cli(p))


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def arrows(package: str, forbidden: Callable[[str], bool]) -> list[str]:
    """Every import of a forbidden module in the package's modules (the CLIs left out), as "file imports x"."""
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imports(path)
        if forbidden(name)
    )


def test_the_pipeline_never_imports_the_dashboard() -> None:
    assert not arrows("workflows", lambda name: within(name, ("dashboard",)))


def test_the_dashboard_imports_only_the_contract_and_the_ground_floor() -> None:
    def forbidden(name: str) -> bool:
        return name != "workflows" and within(name, ("workflows",)) and not within(name, DASHBOARD_MAY_IMPORT)

    assert not arrows("dashboard", forbidden)


def test_every_module_the_dashboard_may_import_exists() -> None:
    """A moved module must leave this list, or the guard would allow a name that no longer means anything."""
    missing = [m for m in DASHBOARD_MAY_IMPORT
               if not (ROOT / f"{m.replace('.', '/')}.py").exists() and not (ROOT / m.replace(".", "/")).is_dir()]  # fmt: skip
    assert not missing, missing


def test_the_contract_needs_only_the_standard_library() -> None:
    contract = ROOT / "workflows" / "marts_contract.py"
    third_party = {n for n in imports(contract) if n.split(".")[0] not in sys.stdlib_module_names}
    assert not third_party, third_party


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    """An import inside a function body is found too: the guard is not fooled by deferring the arrow."""
    module = tmp_path / "lazy.py"
    module.write_text("def serve():\n    from dashboard import app\n    import workflows.publish\n")
    assert {"dashboard", "dashboard.app", "workflows.publish"} <= imported_names(module, "lazy")
