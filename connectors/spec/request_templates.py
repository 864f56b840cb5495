"""Request templates: a request form declared once in `requestTemplates`, used by name.

A connector whose requests share a shape (every Linear call is `POST /graphql` with a query
and variables; every Salesforce write is one composite call) declares that shape once:

    requestTemplates:
      graphql: {method: POST, path: /graphql, body: {query: {$var: args.query}, ...}}
    ...
    request: {use: graphql, with: {query: "query Teams { ... }"}}

Templates are expanded while the connector loads, so the runtime, the dry run and the API
only ever see complete requests. The expansion needs the connector's templates while its
nested requests validate; `ConnectorSpec` provides them through `templates_in_scope`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_TEMPLATES: ContextVar[Mapping[str, Any] | None] = ContextVar("request_templates", default=None)
# Keys merged key by key (the request adds to the template's); every other key replaces.
_MERGED = ("query", "headers")


@contextmanager
def templates_in_scope(data: Any) -> Iterator[None]:
    """Makes the raw connector's `requestTemplates` visible to the requests it validates."""
    templates = None
    if isinstance(data, Mapping):
        templates = data.get("requestTemplates", data.get("request_templates"))
    token = _TEMPLATES.set(templates if isinstance(templates, Mapping) else {})
    try:
        yield
    finally:
        _TEMPLATES.reset(token)


def expand_template(data: Any) -> Any:
    """The raw request `data` with its `use` template's fields under its own.

    Raises:
        ValueError: The template is unknown, or itself uses another template.
    """
    if not isinstance(data, Mapping) or data.get("use") is None:
        return data
    name = data["use"]
    templates = _TEMPLATES.get() or {}
    template = templates.get(name)
    if not isinstance(template, Mapping):
        known = ", ".join(sorted(templates)) or "none"
        raise ValueError(f"unknown request template {name!r} (declared: {known})")
    if template.get("use") is not None:
        raise ValueError(f"request template {name!r} cannot itself `use` another template")
    expanded = {**template, **data}
    for key in _MERGED:
        if isinstance(template.get(key), Mapping) and isinstance(data.get(key), Mapping):
            expanded[key] = {**template[key], **data[key]}
    return expanded


def reference_or_request(schema: dict[str, Any]) -> None:
    """JSON Schema of a request as written: a full request, or a `use` that names a template
    (which supplies `path`)."""
    required = [name for name in schema.get("required", []) if name != "path"]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    schema["anyOf"] = [{"required": ["path"]}, {"required": ["use"]}]
