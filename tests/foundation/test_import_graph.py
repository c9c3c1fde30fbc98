"""The import graph of ``workflows`` and ``dashboard``: the command line sits on top, and nothing goes round.

Every ``import`` counts, at module level or inside a function (a late import still ties the two modules
together: the one circle this test was written against was a late import of the CLI's settings loader).
Importing a submodule also runs its parents' ``__init__``; those implicit arrows are left out, or every
package that re-exports its children would be a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.tooling import ROOT

PACKAGES = ("workflows", "dashboard")
CLI = "workflows.cli"
#: Entry points sit above the command line: ``python -m workflows`` is ``smelt``.
ENTRY_POINTS = frozenset({"workflows.__main__"})


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its own name, for its ``__init__.py``)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules one import statement names: ``from pkg import name`` is pkg.name if that is a module."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = node.module or ""
    if node.level:  # relative: from the module's own package, one level up per extra dot
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    named = {f"{base}.{alias.name}" for alias in node.names}
    return {name if name in known else base for name in named} & known


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules of the same packages it imports."""
    known = modules(root, packages)
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[module] = set().union(
            *(_targets(node, module, path.name == "__init__.py", set(known))
              for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))
        ) - {module}  # fmt: skip
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of two or more modules, as one circle through it (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(_circle(graph, set(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _circle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """One path that leaves the group's first module and comes back to it, for the failure message."""
    start = min(group)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & group):
            if target == start:
                return [*path, start]
            if target not in path:
                paths.append([*path, target])
    raise AssertionError(f"no circle through {sorted(group)}")


def imports_of_the_cli(graph: dict[str, set[str]]) -> list[str]:
    """``module -> target`` for every import of the command line from a library module (not an entry point)."""
    inside = lambda name: name == CLI or name.startswith(CLI + ".")  # noqa: E731
    library = {m: targets for m, targets in graph.items() if not inside(m) and m not in ENTRY_POINTS}
    return sorted(f"{m} -> {t}" for m, targets in library.items() for t in targets if inside(t))


def test_no_library_module_imports_the_command_line() -> None:
    graph = import_graph(ROOT)
    assert graph.get(CLI), "the walk found the CLI package and its imports"
    assert CLI in graph["workflows.__main__"]
    assert imports_of_the_cli(graph) == []


def test_the_import_graph_has_no_circle() -> None:
    found = cycles(import_graph(ROOT))
    assert found == [], "\n".join(" -> ".join(circle) for circle in found)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_walk_finds_a_late_import_circle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above can fail: the shape of the circle this test was written against, seeded."""
    root = _tree(tmp_path, {
        "workflows/__init__.py": "",
        "workflows/__main__.py": "from workflows.cli import main\n",
        "workflows/settings.py": "",
        "workflows/cli/__init__.py": "from workflows.cli import argo\n",
        "workflows/cli/argo.py": "from workflows.argo import commands\n",
        "workflows/argo/__init__.py": "",
        "workflows/argo/commands.py": "def f():\n    from workflows.cli import _settings\n",
        "dashboard/__init__.py": "",
        "dashboard/marts.py": "import workflows.settings\n",
    })  # fmt: skip
    graph = import_graph(root)
    assert graph["dashboard.marts"] == {"workflows.settings"}
    assert imports_of_the_cli(graph) == ["workflows.argo.commands -> workflows.cli"]
    assert cycles(graph) == [["workflows.argo.commands", "workflows.cli", "workflows.cli.argo",
                              "workflows.argo.commands"]]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from workflows import settings", {"workflows.settings"}),  # a submodule by name
        ("from workflows.steps import StepError", {"workflows.steps"}),  # a name: its package
        ("from . import settings", {"workflows.settings"}),  # relative, from workflows/lake.py
        ("from .steps import run, StepError", {"workflows.steps.run", "workflows.steps"}),
        ("import workflows.steps.run", {"workflows.steps.run"}),
    ],
)
def test_each_form_of_import_resolves_to_its_module(tmp_path: Path, source: str, expected: set[str]) -> None:
    root = _tree(tmp_path, {
        "workflows/__init__.py": "", "workflows/settings.py": "", "workflows/lake.py": source + "\n",
        "workflows/steps/__init__.py": "", "workflows/steps/run.py": "",
    })  # fmt: skip
    assert import_graph(root, ["workflows"])["workflows.lake"] == expected
