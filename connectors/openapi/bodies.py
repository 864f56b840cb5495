"""Request bodies: which media type is sent, and how inputs become the body.

JSON (`application/json`, `*+json`) is preferred, then `application/x-www-form-urlencoded`
(`bodyFormat: form`), then `*/*` with a schema, treated as JSON. Other media types (multipart,
octet-stream, text) cannot be sent by connector operations: a required body of that kind
skips the operation, an optional one is left out.

A body whose schema is a plain object (listed `properties`, no `additionalProperties`, no
composition, no property named like a parameter) is flattened: each property is an input of
its own and the body is built from them, so `POST /issues` takes `title`, not `body.title`.
Any other body (arrays, `oneOf`, free-form maps) is one `body` input sent as it is. A
flattened body's required properties are required inputs only when the body is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.openapi.document import Document, OpenApiProblem, join
from connectors.openapi.naming import InputNames, input_locator
from connectors.openapi.schemas import INPUT_BUDGET, SchemaConverter
from connectors.openapi.security import AuthParameters

FORM = "application/x-www-form-urlencoded"
_COMPOSED = ("allOf", "anyOf", "oneOf", "not", "if", "patternProperties")


class Skipped(Exception):
    """An operation the connector runtime cannot send; the reason says why."""


@dataclass(frozen=True)
class Body:
    format: str
    schema: dict[str, Any]
    required: bool
    description: str | None


def read_body(
    document: Document,
    schemas: SchemaConverter,
    operation: dict[str, Any],
    where: str,
    notes: list[str],
) -> Body | None:
    """The operation's request body, if it has one the runtime can send.

    Raises:
        Skipped: The body is required and of a media type operations cannot send.
    """
    if operation.get("requestBody") is None:
        return None
    at = join(where, "requestBody")
    body = document.mapping(operation["requestBody"], at, required=True)
    content = body.get("content") or {}
    if not isinstance(content, dict):
        raise OpenApiProblem(join(at, "content"), "must be a mapping of media types")
    media = pick_media(content)
    if media is None:
        kinds = ", ".join(str(media) for media in content) or "no media type"
        if body.get("required"):
            raise Skipped(f"request body is {kinds}, which operations cannot send")
        notes.append(f"{at}: optional {kinds} body left out")
        return None
    raw = (content[media] or {}).get("schema") or {}
    schema = schemas.convert(raw, join(at, "content", media, "schema"), budget=INPUT_BUDGET)
    return Body(
        format="form" if media == FORM else "json",
        schema=schema,
        required=bool(body.get("required")),
        description=body.get("description"),
    )


def body_mapping(
    body: Body,
    names: InputNames,
    properties: dict[str, Any],
    required: list[str],
    auth: AuthParameters,
) -> Any:
    """Adds the body's inputs to `properties`/`required`; returns the `request.body` mapping."""
    fields = _flattenable(body.schema, names)
    if fields is None:
        name = names.take("body", "body")
        schema = body.schema
        if body.description and "description" not in schema:
            schema = {**schema, "description": body.description}
        properties[name] = schema
        if body.required:
            required.append(name)
        return {"$var": input_locator(name)}
    mapping: dict[str, Any] = {}
    body_required = (body.schema.get("required") or []) if body.required else []
    for field, schema in fields.items():
        if body.format == "form" and auth.covers("body", field):
            continue  # Slack-style `token` form fields: the auth option sends the token
        names.take(field, "body")
        properties[field] = schema
        mapping[field] = {"$var": input_locator(field)}
        if field in body_required:
            required.append(field)
    return mapping


def pick_media(content: dict[str, Any], *, json_only: bool = False) -> str | None:
    """The JSON media type, else form (unless `json_only`), else `*/*` with a schema."""
    types = [str(media) for media in content]
    for media in types:
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media
    if not json_only and FORM in types:
        return FORM
    anything = content.get("*/*") or {}
    schema = anything.get("schema") if isinstance(anything, dict) else None
    # `*/*` with no schema, or a binary one, is an upload (Jira avatars), not JSON.
    if isinstance(schema, dict) and schema and schema.get("format") != "binary":
        return "*/*"
    return None


def _flattenable(schema: dict[str, Any], names: InputNames) -> dict[str, Any] | None:
    """The body's properties when they can be inputs of their own, else None."""
    fields = schema.get("properties")
    if (
        not isinstance(fields, dict)
        or not fields
        or schema.get("type", "object") != "object"
        or schema.get("additionalProperties", False) is not False
        or any(key in schema for key in _COMPOSED)
        or any(name in names or name.startswith("$") for name in fields)
    ):
        return None
    return fields
