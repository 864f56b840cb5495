"""Renders an `HttpMapping` (templated path, formula-built query/headers/body) into a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.runtime.templates import render
from connectors.spec import HttpMapping
from core.formulas import UNDEFINED, CompiledFormula, compile_formula, parse_locator
from core.formulas.locators import get_in

# Spec values live as long as the process; compile each formula once, keyed by identity.
_COMPILED: dict[int, tuple[Any, CompiledFormula]] = {}


def evaluate_spec(value: Any, variables: Any) -> Any:
    """Evaluates a formula that is part of a loaded connector spec (compiled once)."""
    entry = _COMPILED.get(id(value))
    if entry is None or entry[0] is not value:
        entry = (value, compile_formula(value))
        _COMPILED[id(value)] = entry
    return entry[1].evaluate(variables)


def locate(data: Any, path: str | None) -> Any:
    """The value at a locator (`data.items[0].id`), or None."""
    if path is None:
        return data
    value = get_in(data, parse_locator(path))
    return None if value is UNDEFINED else value


def _defined(value: Any) -> bool:
    return value is not UNDEFINED and value is not None


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(v) for v in value]
    return value if isinstance(value, str) else str(value)


@dataclass
class RenderedRequest:
    """Keyword arguments for `ConnectorRuntime.request`, built from a mapping."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "params": self.params or None,
            "headers": self.headers or None,
            "json": self.json,
            "data": self.data,
        }


def render_mapping(mapping: HttpMapping, variables: dict[str, Any]) -> RenderedRequest:
    """Evaluates the mapping; parameters that evaluate to nothing are left out.

    A mapping that uses a request template carries the template's `with` values; they are
    evaluated first, against the same variables, and the template reads them as `args`.
    """
    if mapping.with_:
        variables = {**variables, "args": evaluate_spec(mapping.with_, variables)}
    query = evaluate_spec(mapping.query, variables) if mapping.query else {}
    headers = evaluate_spec(mapping.headers, variables) if mapping.headers else {}
    query = query if isinstance(query, dict) else {}
    headers = headers if isinstance(headers, dict) else {}
    body = evaluate_spec(mapping.body, variables) if mapping.body is not None else None
    rendered = RenderedRequest(
        method=mapping.method,
        path=render(mapping.path, variables, url_encode=True),
        params={k: _query_value(v) for k, v in query.items() if _defined(v)},
        headers={k: str(v) for k, v in headers.items() if _defined(v)},
    )
    if _defined(body):
        if mapping.body_format == "form" and isinstance(body, dict):
            rendered.data = dict(form_fields(body))
        else:
            rendered.json = body
    return rendered


def form_fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flattens nested values the way form-encoded APIs expect: `a[b]=1`, `a[0][c]=2`."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            if _defined(item):
                pairs += form_fields(item, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    if isinstance(value, list):
        pairs = []
        for index, item in enumerate(value):
            pairs += form_fields(item, f"{prefix}[{index}]")
        return pairs
    return [(prefix, str(_query_value(value)))]
