"""The layers import only downwards: api → workflows → activities → connectors → core.

Read from the source (ast), so a lazy import inside a function counts as much as one at the
top of a module: a hidden cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN: dict[str, set[str]] = {
    "core": {"api", "workflows", "activities", "connectors"},
    "connectors": {"api", "workflows", "activities"},
    "activities": {"api", "workflows"},
    "workflows": {"api"},
}
"""Per layer, the top-level packages its modules must not import."""


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in the module, lazy ones included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def violations(layer: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {package}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for package in sorted(imported_packages(path) & FORBIDDEN[layer])
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    assert violations(layer) == []


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from workflows.nodes import NODE_TYPES\n    import api.main\n")
    assert imported_packages(module) == {"workflows", "api"}


def test_test_modules_do_not_import_other_test_modules() -> None:
    """Shared test code lives in conftest.py or helper modules, never in another test module:
    what one imports from another ties the two together, and an imported fixture or test is
    collected again in the importer."""
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
        for module in [node.module]
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert found == []
