"""Calls generated from the OpenAPI: every operation, its path filled with seeded objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.api.seed import Seeded

# Path parameters naming objects that belong to one customer.
OWNED = {"connection_id", "run_id", "log_id", "customer_id", "subscription_id"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template, e.g. /connections/{connection_id}
    spec: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(schema: dict[str, Any]) -> Iterator[Operation]:
    for path, item in schema["paths"].items():
        for method, spec in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield Operation(method.upper(), path, spec)


def _kind_before(path: str, name: str) -> str | None:
    match = re.search(r"/([a-z-]+)/\{" + name + r"\}", path)
    return match.group(1) if match else None


def fill(operation: Operation, seeded: Seeded, schema: dict[str, Any]) -> str:
    """The operation's path with each parameter set to one of `seeded`'s objects.

    Raises:
        AssertionError: for a parameter name this module does not know yet (teach it, so the
            new route is covered).
    """
    values: dict[str, str] = {}
    for name in operation.path_params:
        kind = _kind_before(operation.path, name)
        if name == "connection_id":
            values[name] = seeded.connection_id
        elif name == "customer_id":
            values[name] = seeded.customer_id
        elif name == "log_id":
            values[name] = seeded.log_ids.get(kind or "", seeded.log_id)
        elif name == "subscription_id":
            values[name] = seeded.subscription_id
        elif name == "type_key":
            values[name] = seeded.keys["app-event-types"]
        elif name == "run_id":
            assert seeded.run_id, "seed with Temporal to cover flow-run routes"
            values[name] = seeded.run_id
        elif name == "integration_key" or (name == "key" and kind == "integrations"):
            values[name] = "crm"
        elif name == "key" and kind == "connectors":
            values[name] = "fake-crm"
        elif name == "key" and kind == "operations":
            values[name] = "list-contacts"
        elif name in {"key", "selector"} and kind in seeded.keys:
            values[name] = seeded.keys[kind]
        elif name == "instance_id" and kind and kind.endswith("-instances"):
            values[name] = seeded.instance_ids[kind.removesuffix("-instances") + "s"]
        elif name == "path":
            values[name] = "api/v1/contacts"
        elif name == "collection":
            values[name] = "contacts"
        elif name == "method":
            values[name] = _enum_or(operation, name, "list")
        else:
            raise AssertionError(f"{operation}: no seeded value for path parameter {name!r}")
    return operation.path.format(**values)


def _enum_or(operation: Operation, name: str, default: str) -> str:
    for param in operation.spec.get("parameters", []):
        if param["name"] == name:
            enum = param.get("schema", {}).get("enum")
            return str(enum[0]) if enum else default
    return default


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def minimal_value(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """The smallest value valid for `node`: required properties only, first enum value."""
    node = _resolve(schema, node)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            options = [o for o in node[combinator] if _resolve(schema, o).get("type") != "null"]
            return minimal_value(schema, (options or node[combinator])[0])
    if "enum" in node:
        return node["enum"][0]
    if "const" in node:
        return node["const"]
    if "default" in node:
        return node["default"]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties = node.get("properties", {})
        return {
            name: minimal_value(schema, properties.get(name, {}))
            for name in node.get("required", [])
        }
    return {"array": [], "string": "x", "integer": 1, "number": 1, "boolean": True}.get(
        str(kind), {}
    )


def body_of(operation: Operation, schema: dict[str, Any]) -> Any:
    """A minimal valid JSON body for the operation, or None if it takes none."""
    content = operation.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return minimal_value(schema, content["application/json"].get("schema", {}))
