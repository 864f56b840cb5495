"""The OpenAPI document: FastAPI's, plus the request models routes declare by reference."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel


def operation_id(route: APIRoute) -> str:
    """`<tag>-<function>` (e.g. `flows-create_element`): readable names in generated clients.

    Element routes share function names across kinds, so the tag (the kind) keeps ids unique.
    """
    tag = str(route.tags[0]) if route.tags else "osmo"
    return f"{tag}-{route.name}"


def add_schemas(schema: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Adds each model (and the models it uses) to `components.schemas`."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(generated.pop("$defs", {}))
        components[model.__name__] = generated


def install_openapi(app: FastAPI, request_models: Iterable[type[BaseModel]]) -> None:
    """Makes `app.openapi()` include `request_models`: bodies routes parse as plain objects
    (element definitions, checked by the store) but document with a model."""
    models = list(request_models)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            add_schemas(schema, models)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
