"""Every error key the code can raise is listed in docs/errors.md.

Keys are found by reading the source (ast): the key argument of `OsmoError(type, key, ...)`,
`ConnectorError(key, ...)`, `bad_request(key, ...)`, `conflict(key, ...)`, `not_found(what, ...)`
(key `<what>_not_found`), `ApplicationError(..., type=key)`, and the connector runtime's
`ERROR_KEYS`. A key built at run time is
not found this way; docs/errors.md lists those by pattern.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from connectors.runtime.errors import ERROR_KEYS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("api", "core", "connectors", "workflows", "activities")
KEY_ARGUMENT = {
    "OsmoError": 1,
    "ConnectorError": 0,
    "bad_request": 0,
    "conflict": 0,
    "_auth_error": 0,
    "node_error": 0,
    "__init__": 1,  # `super().__init__(type, key, ...)` in subclasses of OsmoError
}


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def raised_keys() -> set[str]:
    """Every literal error key passed to the error constructors in the production code."""
    keys = set(ERROR_KEYS)
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                name = _name(node)
                if name == "not_found" and node.args:
                    what = _literal(node.args[0])
                    if what:
                        keys.add(f"{what}_not_found")
                elif name == "ApplicationError":
                    # Workflow failures: their `type` is the key node runs and runs report.
                    key = _literal(next((k.value for k in node.keywords if k.arg == "type"), None))
                    if key:
                        keys.add(key)
                elif name in KEY_ARGUMENT:
                    index = KEY_ARGUMENT[name]
                    positional = node.args[index] if len(node.args) > index else None
                    by_name = next((k.value for k in node.keywords if k.arg == "key"), None)
                    key = _literal(positional) or _literal(by_name)
                    if key:
                        keys.add(key)
    return keys


def documented_keys() -> set[str]:
    """Keys in the first column of the tables of docs/errors.md."""
    text = (ROOT / "docs" / "errors.md").read_text()
    return set(re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|", text, flags=re.MULTILINE))


def test_every_raised_error_key_is_documented() -> None:
    missing = raised_keys() - documented_keys()
    assert not missing, f"add these keys to docs/errors.md: {sorted(missing)}"


def test_the_scan_finds_keys_of_each_constructor() -> None:
    # Guards the scanner itself: one known key per way of raising.
    assert {
        "connection_not_found",  # not_found("connection", ...)
        "integration_exists",  # conflict(...)
        "invalid_cursor",  # bad_request(...)
        "not_authenticated",  # OsmoError("auth", ...)
        "rate_limit_exceeded",  # ERROR_KEYS
    } <= raised_keys()
