"""Schemas: `$ref`s inlined however they nest, recursion cut, OpenAPI 3.0 dialect translated."""

from __future__ import annotations

import json
from typing import Any

from connectors.openapi import import_openapi
from connectors.openapi.document import Document
from connectors.openapi.schemas import SchemaConverter
from tests.connectors.openapi.conftest import oas, ok


def convert(schema: dict[str, Any], schemas: dict[str, Any], budget: int = 100_000) -> Any:
    document = Document({"components": {"schemas": schemas}})
    return SchemaConverter(document).convert(schema, "here", budget=budget)


def test_refs_to_refs_are_inlined() -> None:
    schemas = {
        "Id": {"type": "string", "format": "uuid"},
        "Owner": {"$ref": "#/components/schemas/User"},
        "User": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}},
    }
    assert convert({"$ref": "#/components/schemas/Owner"}, schemas) == {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "uuid"}},
    }


def test_recursive_schemas_end_after_a_bounded_depth() -> None:
    schemas = {
        "Task": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "subtasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                "parent": {"$ref": "#/components/schemas/Task"},
            },
        }
    }
    converted = convert({"$ref": "#/components/schemas/Task"}, schemas)
    depth, node = 0, converted
    while "properties" in node:
        node = node["properties"]["parent"]
        depth += 1
    assert depth == 6  # MAX_DEPTH levels of data, then only the schema's own keywords
    assert node == {"type": "object"}
    assert converted["properties"]["subtasks"]["items"]["properties"]["name"] == {"type": "string"}
    assert "$ref" not in json.dumps(converted)


def test_a_schema_composed_of_itself_does_not_loop() -> None:
    schemas = {"Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}], "title": "Loop"}}
    assert convert({"$ref": "#/components/schemas/Loop"}, schemas) == {
        "allOf": [{}],
        "title": "Loop",
    }


def test_big_schemas_keep_fewer_levels() -> None:
    leaf = {"type": "object", "properties": {f"field{i}": {"type": "string"} for i in range(50)}}
    schemas = {"Leaf": leaf}
    wide = {
        "type": "object",
        "properties": {f"child{i}": {"$ref": "#/components/schemas/Leaf"} for i in range(20)},
    }
    whole = convert(wide, schemas)
    assert whole["properties"]["child0"] == leaf
    trimmed = convert(wide, schemas, budget=2_000)
    assert trimmed["properties"]["child0"] == {"type": "object"}
    assert len(json.dumps(trimmed)) <= 2_000


def test_openapi_30_dialect_becomes_json_schema() -> None:
    converted = convert(
        {
            "type": "object",
            "required": ["size"],
            "discriminator": {"propertyName": "kind"},
            "example": {"size": 3},
            "x-internal": True,
            "properties": {
                "size": {"type": "integer", "maximum": 10, "exclusiveMaximum": True},
                "low": {"type": "number", "minimum": 0, "exclusiveMinimum": False},
                "note": {"type": "string", "nullable": True, "enum": ["a", "b"]},
                "owner": {"$ref": "#/components/schemas/User", "nullable": True},
                "file": {"type": "file"},
                "flag": {"type": "boolean", "required": True},
                # Property names are data, not keywords: never dropped.
                "example": {"type": "string"},
            },
        },
        {"User": {"type": "object", "properties": {"id": {"type": "string"}}}},
    )
    assert converted == {
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "integer", "exclusiveMaximum": 10},
            "low": {"type": "number", "minimum": 0},
            "note": {"type": ["string", "null"], "enum": ["a", "b", None]},
            "owner": {"type": ["object", "null"], "properties": {"id": {"type": "string"}}},
            "file": {"type": "string", "format": "binary"},
            "flag": {"type": "boolean"},
            "example": {"type": "string"},
        },
    }


def test_no_ref_is_left_in_a_whole_connector() -> None:
    document = oas(
        {
            "/things/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "put": {
                    "operationId": "updateThing",
                    "requestBody": {"$ref": "#/components/requestBodies/Thing"},
                    "responses": {"200": {"$ref": "#/components/responses/Thing"}},
                },
            }
        },
        {
            "parameters": {
                "Id": {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"$ref": "#/components/schemas/Id"},
                }
            },
            "requestBodies": {
                "Thing": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                    },
                }
            },
            "responses": {
                "Thing": {
                    "description": "A thing",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                    },
                }
            },
            "schemas": {
                "Id": {"type": "string"},
                "Thing": {
                    "type": "object",
                    "properties": {
                        "id": {"$ref": "#/components/schemas/Id"},
                        "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                    },
                },
            },
        },
    )
    connector = import_openapi(document, "things")
    assert '"$ref"' not in json.dumps(connector.model_dump(mode="json", by_alias=True))
    (operation,) = connector.operations
    assert operation.input_schema["properties"]["id"] == {"type": "string"}
    # The body's `id` would clash with the path's `id`, so the body is one `body` input.
    assert operation.input_schema["required"] == ["id", "body"]
    assert operation.input_schema["properties"]["body"]["properties"]["id"] == {"type": "string"}
    assert operation.request.body == {"$var": "input.body"}
    assert operation.output_schema is not None
    assert operation.output_schema["properties"]["parts"]["items"]["type"] == "object"


def test_a_yaml_200_key_and_a_2xx_range_both_give_the_output_schema() -> None:
    for responses in ({200: ok({"type": "string"})["200"]}, {"2XX": ok({"type": "string"})["200"]}):
        document = oas({"/x": {"get": {"operationId": "x", "responses": responses}}})
        (operation,) = import_openapi(document, "x").operations
        assert operation.output_schema == {"type": "string"}
