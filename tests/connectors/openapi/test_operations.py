"""Operations: keys, inputs from parameters and bodies, what is skipped, what is malformed."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.openapi import build_connector, import_openapi
from connectors.spec import Operation
from core.errors import OsmoError
from tests.connectors.openapi.conftest import oas, ok


def only(paths: dict[str, Any], **components: Any) -> Operation:
    (operation,) = import_openapi(oas(paths, components), "example").operations
    return operation


def problems(document: Any, key: str = "example") -> list[dict[str, str]]:
    with pytest.raises(OsmoError) as raised:
        build_connector(document, key, root="document")
    assert raised.value.status == 422 and raised.value.key == "validation_error"
    return list(raised.value.data["errors"])


def test_keys_are_kebab_case_unique_and_at_most_64_characters() -> None:
    long_id = "getTheVeryLongNameOfAnOperationThatSomeGeneratorsLikeToProduceForNoReasonAtAll"
    connector = import_openapi(
        oas(
            {
                "/a": {"get": {"operationId": "listThings", "responses": ok()}},
                "/b": {"get": {"operationId": "list_things", "responses": ok()}},
                "/c/{id}": {"delete": {"responses": ok(), "summary": "Remove a C"}},
                "/d": {"get": {"operationId": long_id, "responses": ok()}},
                "/e": {"get": {"operationId": long_id, "responses": ok()}},
            }
        ),
        "example",
    )
    keys = [operation.key for operation in connector.operations]
    assert keys[:3] == ["list-things", "list-things-2", "delete-c-id"]
    assert all(len(key) <= 64 for key in keys) and len(set(keys)) == 5
    assert keys[4].endswith("-2")
    assert [op.name for op in connector.operations][:3] == [
        "listThings",
        "list_things",
        "Remove a C",
    ]
    assert [op.read_only for op in connector.operations] == [True, True, False, True, True]


def test_parameters_with_names_that_are_not_identifiers() -> None:
    operation = only(
        {
            "/items/{item-id}/{x.y}": {
                "parameters": [
                    {
                        "name": "item-id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "page[size]", "in": "query", "schema": {"type": "integer"}},
                ],
                "get": {
                    "operationId": "getItem",
                    "parameters": [
                        # Overrides the path item's parameter of the same name and place.
                        {
                            "name": "page[size]",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "filter.name", "in": "query", "schema": {"type": "string"}},
                        {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                        {"name": "sid", "in": "cookie", "schema": {"type": "string"}},
                    ],
                    "responses": ok(),
                },
            }
        }
    )
    assert operation.request.path == "/items/{{ input.item-id }}/{{ input.x_y }}"
    assert operation.request.query == {
        "page[size]": {"$var": "input.page\\[size]"},
        "filter.name": {"$var": "input.filter\\.name"},
    }
    assert operation.request.headers == {"X-Request-Id": {"$var": "input.X-Request-Id"}}
    properties = operation.input_schema["properties"]
    assert properties["page[size]"] == {"type": "string"}
    # `{x.y}` is in the path but not declared: a required string, with a template-safe name.
    assert properties["x_y"] == {"type": "string"}
    assert operation.input_schema["required"] == ["item-id", "page[size]", "x_y"]
    assert "sid" not in properties


def test_an_object_body_is_flattened_into_inputs() -> None:
    operation = only(
        {
            "/issues": {
                "post": {
                    "operationId": "createIssue",
                    "parameters": [
                        {"name": "notify", "in": "query", "schema": {"type": "boolean"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["title"],
                                    "properties": {
                                        "title": {"type": "string"},
                                        "labels": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"201": {"description": "Created"}},
                }
            }
        }
    )
    assert operation.request.body == {
        "title": {"$var": "input.title"},
        "labels": {"$var": "input.labels"},
    }
    assert operation.request.body_format == "json"
    assert list(operation.input_schema["properties"]) == ["notify", "title", "labels"]
    assert operation.input_schema["required"] == ["title"]
    assert operation.output_schema is None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"oneOf": [{"type": "object", "properties": {"a": {}}}, {"type": "string"}]},
        {"type": "object", "properties": {"id": {"type": "string"}}},  # clashes with the path
    ],
)
def test_other_bodies_are_one_body_input(schema: dict[str, Any]) -> None:
    operation = only(
        {
            "/things/{id}": {
                "put": {
                    "operationId": "putThing",
                    "parameters": [{"name": "id", "in": "path", "required": True}],
                    "requestBody": {"content": {"application/json": {"schema": schema}}},
                    "responses": ok(),
                }
            }
        }
    )
    assert operation.request.body == {"$var": "input.body"}
    assert operation.input_schema["properties"]["body"] == schema
    assert operation.input_schema["required"] == ["id"]  # the body is optional here


def test_form_bodies_and_bodies_operations_cannot_send() -> None:
    upload = {"multipart/form-data": {"schema": {"type": "object"}}}
    result = build_connector(
        oas(
            {
                "/form": {
                    "post": {
                        "operationId": "form",
                        "requestBody": {
                            "content": {
                                "application/x-www-form-urlencoded": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"a": {"type": "string"}},
                                    }
                                }
                            }
                        },
                        "responses": ok(),
                    },
                    "head": {"operationId": "probe", "responses": ok()},
                },
                "/upload": {
                    "post": {
                        "requestBody": {"required": True, "content": upload},
                        "responses": ok(),
                    },
                    "put": {
                        "operationId": "maybe",
                        "requestBody": {"content": upload},
                        "responses": ok(),
                    },
                },
            }
        ),
        "example",
    )
    form, maybe = result.connector.operations
    assert form.request.body_format == "form" and form.request.body == {"a": {"$var": "input.a"}}
    assert maybe.request.body is None
    assert [(s.method, s.path, s.reason) for s in result.skipped] == [
        ("HEAD", "/form", "HEAD is not a method connector operations can use"),
        (
            "POST",
            "/upload",
            "request body is multipart/form-data, which operations cannot send",
        ),
    ]
    assert result.notes == [
        "paths./upload.put.requestBody: optional multipart/form-data body left out"
    ]


def test_comma_separated_arrays() -> None:
    operation = only(
        {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [
                        {
                            "name": "ids",
                            "in": "query",
                            "explode": False,
                            "schema": {"type": "array"},
                        },
                        {"name": "tags", "in": "query", "schema": {"type": "array"}},
                        {
                            "name": "ws",
                            "in": "query",
                            "style": "pipeDelimited",
                            "explode": False,
                            "schema": {"type": "array"},
                        },
                    ],
                    "responses": ok(),
                }
            }
        }
    )
    joined = operation.request.query["ids"]["$firstNotEmpty"][0]["$concat"]
    assert joined == {"values": [{"$var": "input.ids"}], "delimiter": ","}
    assert operation.request.query["tags"] == {"$var": "input.tags"}  # repeated: tags=a&tags=b
    assert operation.request.query["ws"]["$firstNotEmpty"][0]["$concat"]["delimiter"] == "|"


def test_malformed_descriptions_are_reported_with_the_path_of_every_problem() -> None:
    found = problems(
        oas(
            {
                "/x": {"get": {"operationId": "x", "responses": "nope"}},
                "/y": {"get": {"operationId": "y"}},
                "/z": {
                    "post": {
                        "parameters": [{"in": "query"}],
                        "responses": ok({"$ref": "#/components/schemas/Missing"}),
                    }
                },
                "/ok": {"get": {"responses": ok()}},
            }
        )
    )
    assert found == [
        {"path": "document.paths./x.get.responses", "message": "must be a mapping, got str"},
        {"path": "document.paths./y.get.responses", "message": "is missing"},
        {
            "path": "document.paths./z.post.parameters[0]",
            "message": "needs a `name` and an `in` of path, query, header or cookie",
        },
    ]
    assert problems({"swagger": "1.2"}) == [
        {"path": "document", "message": "not an OpenAPI 3.x (or Swagger 2.0) description"}
    ]
    assert problems(oas({"/x": {"get": {"responses": ok({"$ref": "#/nowhere"})}}})) == [
        {
            "path": "document.paths./x.get.responses.200.content.application/json.schema",
            "message": "$ref '#/nowhere' points at nothing",
        }
    ]
    assert problems(oas({}), key="Not A Key")[0]["path"] == "key"


def test_openapi_31_operations_may_omit_responses() -> None:
    document = {**oas({"/x": {"get": {"operationId": "x"}}}), "openapi": "3.1.0"}
    (operation,) = import_openapi(document, "example").operations
    assert operation.output_schema is None


def test_swagger_2_body_and_form_parameters() -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "Old API", "version": "1"},
        "host": "old.example.com",
        "basePath": "/v1",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "app": {
                "type": "oauth2",
                "flow": "application",
                "tokenUrl": "https://old.example.com/t",
            },
        },
        "parameters": {"Limit": {"name": "limit", "in": "query", "type": "integer"}},
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "parameters": [
                        {"$ref": "#/parameters/Limit"},
                        {
                            "name": "ids",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                        }
                    },
                },
                "post": {
                    "operationId": "addPet",
                    "parameters": [
                        {
                            "name": "pet",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Pet"},
                        }
                    ],
                    "responses": {"201": {"description": "Created"}},
                },
            },
            "/pets/{id}/photo": {
                "post": {
                    "operationId": "uploadPhoto",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "string"},
                        {"name": "file", "in": "formData", "type": "file", "required": True},
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            },
        },
    }
    result = build_connector(swagger, "old")
    connector = result.connector
    assert connector.api.base_url == "https://old.example.com/v1"
    assert [(option.key, option.type) for option in connector.auth] == [
        ("basic", "basic"),
        ("app-client-credentials", "oauth2-client-credentials"),
    ]
    listing, add = connector.operations
    assert listing.output_schema == {
        "type": "array",
        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    assert list(listing.request.query) == ["limit", "ids"]
    assert "$concat" in listing.request.query["ids"]["$firstNotEmpty"][0]  # csv by default
    assert add.request.body == {"name": {"$var": "input.name"}}
    assert [(s.method, s.path) for s in result.skipped] == [("POST", "/pets/{id}/photo")]
