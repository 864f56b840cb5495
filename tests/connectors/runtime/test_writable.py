"""Which fields a create or update sends (connectors/runtime/writable.py)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.runtime.writable import writable_fields
from connectors.spec import DataCollection

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "name": {"type": "string"},
        "due": {"type": ["string", "null"]},
        "owner": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "avatar": {"readOnly": True}},
        },
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"url": {"readOnly": True}}},
        },
        "notes": {"type": "string"},
    },
}
RECORD: dict[str, Any] = {
    "id": "r1",
    "name": "Plan",
    "due": None,
    "notes": None,
    "owner": {"id": "u1", "avatar": "https://a.test/u1.png", "extra": 1},
    "tags": [{"name": "x", "url": "https://t.test/x"}],
    "shortUrl": "https://app.test/r1",
}


def collection(schema: dict[str, Any], **methods: Any) -> DataCollection:
    request = {"method": "POST", "path": "/records"}
    return DataCollection.model_validate(
        {
            "key": "records",
            "name": "Records",
            "fieldsSchema": schema,
            "create": {"request": request, **methods.get("create", {})},
            "update": {"request": request, **methods.get("update", {})},
        }
    )


def write(records: DataCollection, method: str, fields: dict[str, Any]) -> dict[str, Any]:
    chosen = records.method(method)
    assert chosen is not None
    return writable_fields(records, chosen, fields, creating=method == "create")


def test_read_only_and_undeclared_fields_are_dropped_at_every_depth() -> None:
    assert write(collection(SCHEMA), "update", RECORD) == {
        "name": "Plan",
        "due": None,  # the schema admits null: an update clears the field
        "owner": {"id": "u1", "extra": 1},  # nested undeclared keys stay (custom attributes)
        "tags": [{"name": "x"}],
    }


def test_a_create_sends_no_nulls() -> None:
    assert "due" not in write(collection(SCHEMA), "create", RECORD)


def test_writable_fields_narrow_each_method() -> None:
    records = collection(
        SCHEMA, create={"writableFields": ["name", "id"]}, update={"writableFields": ["notes"]}
    )
    assert write(records, "create", RECORD) == {"name": "Plan"}  # `id` stays read-only
    assert write(records, "update", {**RECORD, "notes": "n"}) == {"notes": "n"}


@pytest.mark.parametrize(
    ("extra", "kept"),
    [
        ({"additionalProperties": True}, {"shortUrl": "https://app.test/r1"}),
        ({"additionalProperties": {"type": "string"}}, {"shortUrl": "https://app.test/r1"}),
        ({"additionalProperties": {"readOnly": True}}, {}),
        ({"patternProperties": {"Url$": {}}}, {"shortUrl": "https://app.test/r1"}),
        ({"patternProperties": {"__c$": {}}}, {}),
        ({}, {}),
    ],
)
def test_undeclared_fields_go_out_only_where_the_schema_opens_them(
    extra: dict[str, Any], kept: dict[str, Any]
) -> None:
    records = collection({"type": "object", "properties": {"name": {}}, **extra})
    assert write(records, "update", {"name": "n", "shortUrl": "https://app.test/r1"}) == {
        "name": "n",
        **kept,
    }


def test_writable_fields_is_part_of_the_connector_schema() -> None:
    from connectors.schema import connector_schema

    definitions = connector_schema()["$defs"]
    assert "writableFields" in definitions["CollectionMethod"]["properties"]
