"""What a create or update may send: the fields the app's endpoint accepts, nothing else.

A record read from an app and written back carries everything the app answered with: ids,
timestamps, computed state (`dateLastActivity`, `shortUrl`, `admin_assignee_id`...). Apps refuse
those or, worse, ignore some and fail on others, so writes send only writable fields:

1. A property the collection's `fieldsSchema` marks `readOnly: true` is never sent. This is JSON
   Schema's own marker (the vendors' OpenAPI descriptions use it the same way), so one
   declaration serves the fields' documentation, the catalog and the write. It applies at any
   depth: in declared object properties, in array items and in `additionalProperties` schemas.
2. At the top level, a field the schema does not declare is sent only when it matches the
   schema's `patternProperties` (Salesforce's custom `…__c` fields) or the schema opens
   `additionalProperties` (`true`, or a schema). Apps with custom fields (Airtable, HubSpot,
   Jira, Salesforce, Notion properties) say so; the others are closed, so a field the
   connector does not know is dropped instead of being sent blind.
3. A method's `writableFields` narrows the top level further, for endpoints that accept less
   than the record holds (Intercom creates a conversation from `from` and `body`, and updates
   only `read`, `title` and `custom_attributes`): JSON Schema cannot say "create only".

`null`, what apps answer for an empty field, is sent only where the field's schema admits
`null` (the connector says the app lets it be cleared), and never at the top level of a create.

Below the top level, undeclared keys are kept: nested values are often free-form
(`custom_attributes`, a ticket type's attributes) and the connector declares what it knows.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.spec import CollectionMethod, DataCollection


def _read_only(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("readOnly") is True


def _admits_null(schema: Any) -> bool:
    """Whether `null` may be sent for a field: its schema says so, or says nothing of types."""
    if not isinstance(schema, dict):
        return True
    kind = schema.get("type")
    if kind is None:
        variants = [*schema.get("oneOf", []), *schema.get("anyOf", [])]
        return not variants or any(_admits_null(v) for v in variants)
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _sendable(value: Any, schema: Any) -> bool:
    """`null` goes out only where the schema admits it: apps answer `null` for every empty
    field, and most refuse it back for a field that cannot be cleared."""
    return not _read_only(schema) and (value is not None or _admits_null(schema))


def _strip(value: Any, schema: Any) -> Any:
    """`value` without the parts `schema` marks read-only (undeclared keys are kept)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        kept = {}
        for key, item in value.items():
            item_schema = properties.get(key, extra)
            if _sendable(item, item_schema):
                kept[key] = _strip(item, item_schema)
        return kept
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_strip(item, schema["items"]) for item in value]
    return value


def _pattern_schema(schema: dict[str, Any], key: str) -> Any:
    """The `patternProperties` schema `key` matches (Salesforce's custom `…__c` fields)."""
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        if re.search(pattern, key):
            return sub
    return None


def writable_fields(
    collection: DataCollection,
    method: CollectionMethod,
    fields: dict[str, Any],
    *,
    creating: bool = False,
) -> dict[str, Any]:
    """The part of `fields` that `method` (a create or update) may send (see module docstring).

    A `null` is sent only for a field whose schema admits it (the way to clear it), and never
    at the top level of a create (a new record has nothing to clear).
    """
    schema = collection.fields_schema
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    allowed = None if method.writable_fields is None else set(method.writable_fields)
    kept = {}
    for key, value in fields.items():
        if allowed is not None and key not in allowed:
            continue
        if value is None and creating:
            continue  # a new record has nothing to clear
        if key in properties:
            field_schema = properties[key]
        elif (pattern := _pattern_schema(schema, key)) is not None:
            field_schema = pattern
        elif extra is True or isinstance(extra, dict):
            field_schema = extra
        else:
            continue
        if _sendable(value, field_schema):
            kept[key] = _strip(value, field_schema)
    return kept
