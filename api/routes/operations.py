"""Connector operations and data collections, run through a connection."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from api.deps import CallerDep, ServicesDep, SessionDep
from api.models import ApiModel
from api.routes.connections import get_connection
from api.routes.integrations import get_integration
from connectors.runtime.collections import API_METHODS, run_method
from connectors.runtime.operations import run_operation
from core.errors import not_found

router = APIRouter(tags=["operations"])

MethodName = Literal["list", "find-by-id", "match", "search", "create", "update", "delete"]


class OperationRun(ApiModel):
    input: dict[str, Any] = Field(default_factory=dict)


class CollectionCall(ApiModel):
    parameters: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    fields: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    cursor: str | None = None


def _operation_summary(operation: Any) -> dict[str, Any]:
    return {
        "key": operation.key,
        "name": operation.name,
        "description": operation.description,
        "docsUrl": operation.docs_url,
        "readOnly": operation.read_only,
        "method": operation.request.method,
        "path": operation.request.path,
        "inputSchema": operation.input_schema,
        "outputSchema": operation.output_schema,
    }


@router.get("/integrations/{key}/operations")
def list_integration_operations(
    _: CallerDep, services: ServicesDep, session: SessionDep, key: str
) -> dict[str, Any]:
    integration = get_integration(session, key)
    connector = services.registry.get(integration.connector_key)
    if connector is None:
        raise not_found("connector", integration.connector_key)
    return {"items": [_operation_summary(op) for op in connector.operations], "cursor": None}


@router.post("/connections/{connection_id}/operations/{key}/run")
async def run_connection_operation(
    connection_id: str,
    key: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: OperationRun | None = None,
) -> dict[str, Any]:
    """Runs a connector operation; input failing its schema is a 422 and nothing is sent."""
    body = body or OperationRun()
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    return {"output": await run_operation(services.runtime, ctx, key, body.input)}


@router.get("/connections/{connection_id}/data")
def list_connection_collections(
    connection_id: str, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    items = [
        {
            "key": c.key,
            "name": c.name,
            "docsUrl": c.docs_url,
            "methods": [m.replace("_", "-") for m in c.supported_methods()],
            "parametersSchema": c.parameters_schema,
            "fieldsSchema": c.fields_schema,
            "udm": c.udm.model if c.udm else None,
            "events": {
                kind: getattr(c.events, kind).type
                for kind in ("created", "updated", "deleted")
                if getattr(c.events, kind) is not None
            },
        }
        for c in ctx.connector.data_collections
    ]
    return {"items": items, "cursor": None}


@router.post("/connections/{connection_id}/data/{collection}/{method}")
async def call_collection_method(
    connection_id: str,
    collection: str,
    method: MethodName,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: CollectionCall | None = None,
) -> dict[str, Any]:
    """Runs one data collection method and returns normalized records."""
    body = body or CollectionCall()
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    return await run_method(
        services.runtime,
        ctx,
        collection,
        API_METHODS[method],
        parameters=body.parameters,
        id=body.id,
        fields=body.fields,
        query=body.query,
        cursor=body.cursor,
    )
