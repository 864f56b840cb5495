"""Which fields of a schema hold secrets (`isSensitive`), so messages never echo them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from core.schemas.paths import join_key

_INDEX = re.compile(r"\[-?\d+\]")
_KEY_SEPARATOR = re.compile(r"(?<!\\)\.|\[\]")


def sensitive_paths(schema: Mapping[str, Any]) -> set[str]:
    """Paths of the fields marked `isSensitive: true`.

    Array items appear as `[]`: `{"tokens": {"items": {"properties": {"secret": ...}}}}`
    gives `tokens[].secret`. A sensitive root is reported as the empty path.
    """
    found: set[str] = set()
    _collect(schema, "", found)
    return found


def _collect(schema: Mapping[str, Any], path: str, found: set[str]) -> None:
    if schema.get("isSensitive") is True:
        found.add(path)
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            if isinstance(sub, Mapping):
                _collect(sub, join_key(path, name), found)
    for keyword in ("items", "additionalProperties"):
        sub = schema.get(keyword)
        if isinstance(sub, Mapping):
            _collect(sub, f"{path}[]" if keyword == "items" else path, found)
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        subs = schema.get(keyword)
        if isinstance(subs, list):
            item_path = f"{path}[]" if keyword == "prefixItems" else path
            for sub in subs:
                if isinstance(sub, Mapping):
                    _collect(sub, item_path, found)


def is_sensitive_path(path: str, sensitive: Collection[str]) -> bool:
    """Whether `path` is, or lies inside, one of the `sensitive` entries.

    An entry is either a path as returned by `sensitive_paths` (`auth.token`, `tokens[].secret`;
    indices in `path` are ignored) or a bare key (`password`) that matches at any depth.
    """
    if not sensitive:
        return False
    generic = _INDEX.sub("[]", path)
    for entry in sensitive:
        if entry in ("", generic) or generic.startswith((f"{entry}.", f"{entry}[")):
            return True
    keys = set(_KEY_SEPARATOR.split(generic))
    return any(entry in keys for entry in sensitive)
