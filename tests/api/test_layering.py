"""Route modules translate HTTP: they share code through api/deps.py, api/models/ and core/,
never by importing each other (one resource per module, any order of inclusion)."""

from __future__ import annotations

import ast
from pathlib import Path

ROUTES = Path(__file__).resolve().parents[2] / "api" / "routes"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _owner(path: Path) -> str:
    """The route module (or package) a file belongs to, e.g. `api.routes.elements`."""
    first = path.relative_to(ROUTES).parts[0]
    return f"api.routes.{first.removesuffix('.py')}"


def test_route_modules_do_not_import_each_other() -> None:
    crossings = []
    for path in ROUTES.rglob("*.py"):
        owner = _owner(path)
        for module in _imports(path):
            imported = module if module.startswith("api.routes.") else ""
            if imported and not (imported == owner or imported.startswith(owner + ".")):
                crossings.append(f"{path.relative_to(ROUTES)} imports {module}")
    assert not crossings, crossings


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    # Guards the check itself: an import of another route module is found and attributed.
    module = ROUTES / "flow_runs.py"
    assert _owner(module) == "api.routes.flow_runs"
    assert "api.deps" in _imports(module)
    crossing = tmp_path / "x.py"
    crossing.write_text("from api.routes.connections import router\n")
    assert "api.routes.connections" in _imports(crossing)
