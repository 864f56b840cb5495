"""Reading an OpenAPI description: parsing, version check, local `$ref` lookup, problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML without timestamps: `2024-01-01` in an example stays a string, as in JSON."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class OpenApiProblem(Exception):
    """Something in the description that stops the import, at a dotted path into it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def join(path: str, *parts: str | int) -> str:
    """`join("paths", "/x", "get")` → `paths./x.get` (the notation problems are reported in)."""
    for part in parts:
        if part == "":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def parse_document(text: str) -> dict[str, Any]:
    """Parses a JSON or YAML description.

    Raises:
        OpenApiProblem: Not JSON/YAML, or not a mapping at the top.
    """
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, _Loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise OpenApiProblem("", f"not valid JSON or YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise OpenApiProblem("", "an OpenAPI description must be a mapping at the top level")
    return data


def read_document(path: Path) -> dict[str, Any]:
    """Reads and parses a description file (`.json`, `.yaml`, `.yml`)."""
    return parse_document(path.read_text(encoding="utf-8"))


class Document:
    """An OpenAPI 3.x description (Swagger 2.0 is upgraded before this) with its `$ref`s."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def lookup(self, ref: Any, path: str) -> tuple[Any, str]:
        """The node a local `$ref` (`#/components/schemas/Task`) points at, and its path.

        Raises:
            OpenApiProblem: The ref is not a local JSON pointer or points at nothing.
        """
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise OpenApiProblem(path, f"only local $refs (#/...) are supported, got {ref!r}")
        node: Any = self.data
        target = ""
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise OpenApiProblem(path, f"$ref {ref!r} points at nothing")
            target = join(target, part)
        return node, target

    def resolve(self, node: Any, path: str) -> tuple[Any, str]:
        """Follows `$ref`s (a ref to a ref...) to a parameter, response or request body.

        Raises:
            OpenApiProblem: A broken ref, or refs that only point at each other.
        """
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise OpenApiProblem(path, f"$ref {ref!r} refers back to itself")
            seen.add(ref)
            node, path = self.lookup(ref, path)
        return node, path

    def mapping(self, node: Any, path: str, *, required: bool = False) -> dict[str, Any]:
        """`node` resolved and checked to be a mapping (an absent optional node is `{}`)."""
        if node is None and not required:
            return {}
        node, where = self.resolve(node, path)
        if not isinstance(node, dict):
            what = "is missing" if node is None else f"must be a mapping, got {type(node).__name__}"
            raise OpenApiProblem(where, what)
        return node
