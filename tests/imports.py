"""What a module of smelt's imports, read with ``ast``: the import guards (tests/foundation) and the image-lock
check (tests/install) share this one reading."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    """``workflows/lake/__init__.py`` -> ``workflows.lake``; ``dashboard/app.py`` -> ``dashboard.app``."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, module: str, *, at_load: bool = False) -> set[str]:
    """Absolute names the file imports (``from x import y`` gives ``x`` and ``x.y``; relative ones resolved).

    Every import statement counts, lazy ones in functions included, unless ``at_load``: then only what runs
    while the module loads (top-level statements and the if/try/with blocks under them, not function or
    class bodies, not ``if TYPE_CHECKING``).
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def record(node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            return
        base = node.module or ""
        if node.level:
            base = importlib.util.resolve_name("." * node.level + base, package)
        found.add(base)
        found.update(f"{base}.{alias.name}" for alias in node.names)

    def at_load_time(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                record(node)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                at_load_time(node.orelse)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                    at_load_time(block)
                for handler in getattr(node, "handlers", []):
                    at_load_time(handler.body)

    tree = ast.parse(path.read_text(), str(path))
    if at_load:
        at_load_time(tree.body)
    else:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                record(node)
    return found
