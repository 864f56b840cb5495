"""Connector operations and data collections, run through a connection."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, ConnectionContextDep, IntegrationDep, ServicesDep
from api.models.errors import errors
from api.models.operations import (
    CollectionCall,
    CollectionList,
    CollectionResult,
    CollectionSummary,
    MethodName,
    OperationList,
    OperationRun,
    OperationRunResult,
    OperationSummary,
)
from connectors.runtime.collections import API_METHODS, run_method
from connectors.runtime.operations import run_operation
from connectors.spec import DataCollection, Operation
from core.errors import not_found

router = APIRouter(tags=["operations"])

CONNECTOR_CALL = errors(400, 404, 409, 502)
"""A call to the external app answers with its normalized errors."""


def _operation_summary(operation: Operation) -> OperationSummary:
    return OperationSummary(
        key=operation.key,
        name=operation.name,
        description=operation.description,
        docs_url=operation.docs_url,
        read_only=operation.read_only,
        method=operation.request.method,
        path=operation.request.path,
        input_schema=operation.input_schema,
        output_schema=operation.output_schema,
    )


def _collection_summary(collection: DataCollection) -> CollectionSummary:
    events = {
        kind: getattr(collection.events, kind).type
        for kind in ("created", "updated", "deleted")
        if getattr(collection.events, kind) is not None
    }
    return CollectionSummary(
        key=collection.key,
        name=collection.name,
        docs_url=collection.docs_url,
        methods=[m.replace("_", "-") for m in collection.supported_methods()],
        parameters_schema=collection.parameters_schema,
        fields_schema=collection.fields_schema,
        udm=collection.udm.model if collection.udm else None,
        events=events,
    )


@router.get("/integrations/{integration_key}/operations", responses=errors(404))
def list_integration_operations(
    _: CallerDep, services: ServicesDep, integration: IntegrationDep
) -> OperationList:
    connector = services.registry.get(integration.connector_key)
    if connector is None:
        raise not_found("connector", integration.connector_key)
    return OperationList(items=[_operation_summary(op) for op in connector.operations])


@router.post("/connections/{connection_id}/operations/{key}/run", responses=CONNECTOR_CALL)
async def run_connection_operation(
    key: str,
    services: ServicesDep,
    ctx: ConnectionContextDep,
    body: OperationRun | None = None,
) -> OperationRunResult:
    """Runs a connector operation; input failing its schema is a 422 and nothing is sent."""
    body = body or OperationRun()
    return OperationRunResult(output=await run_operation(services.runtime, ctx, key, body.input))


@router.get("/connections/{connection_id}/data", responses=errors(404))
def list_connection_collections(ctx: ConnectionContextDep) -> CollectionList:
    return CollectionList(items=[_collection_summary(c) for c in ctx.connector.data_collections])


@router.post(
    "/connections/{connection_id}/data/{collection}/{method}",
    responses=CONNECTOR_CALL,
    response_model_exclude_unset=True,
)
async def call_collection_method(
    collection: str,
    method: MethodName,
    services: ServicesDep,
    ctx: ConnectionContextDep,
    body: CollectionCall | None = None,
) -> CollectionResult:
    """Runs one data collection method and returns normalized records."""
    body = body or CollectionCall()
    result = await run_method(
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
    return CollectionResult.model_validate(result)
