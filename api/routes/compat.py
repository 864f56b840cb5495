"""Routes Membrane's SDK (`@membranehq/sdk`) calls, as thin aliases over Osmo's own.

Nothing here has behaviour of its own: each route names things the SDK's way (instance
selectors in the query, raw bodies, `/api/` for the request passthrough) and calls the route or
store function that already does the work, so both APIs answer the same.

    GET  /self                                   the calling customer
    GET/PATCH /{kind}-instance?id=… | ?connectionId=…&{kind}Key=…   one connection-level instance
    POST /{kind}-instance/reset?…, /{kind}-instances/{id}/reset     follow the parent again
    GET  /{kind}-instances?connectionId=…&{kind}Key=…              the instances that exist
    POST /action-instance/run?…                  run it with the raw input as the body
    GET/POST /data-link-table-instance/links?…   its links
    GET  /connections/{id}/{kinds}               the connection's instance of each element
    POST /data-source-instance/collection/{method}?…   a method of the data source's collection
    POST /connections/{id}/api/{path}            the proxy, as `connection.request()` calls it

(The instance routes are in `compat_instances`, included here.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from api.deps import (
    CallerDep,
    ServicesDep,
    SessionDep,
    caller_connection_context,
    connection_context,
    get_connection,
)
from api.models import PublicModel
from api.models.errors import errors
from api.models.operations import CollectionCall, CollectionResult, MethodName
from api.proxying import proxy_request
from api.routes import compat_instances
from connectors.runtime.collections import API_METHODS, run_method
from connectors.spec import ConnectorSpec, DataCollection
from core.elements.store import ElementStore
from core.errors import OsmoError

router = APIRouter(tags=["membrane-compatibility"])
router.include_router(compat_instances.router)


class SelfPublic(PublicModel):
    """The calling customer, as Membrane's SDK reads it."""

    id: str
    name: str | None = None
    internal_id: str = Field(description="The product's id for the customer (its tenantKey).")
    tenant_key: str
    fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


@router.get("/self", responses=errors())
def read_self(caller: CallerDep) -> SelfPublic:
    """The customer the token names: `internalId` is the product's id for it (`tenantKey`)."""
    customer = caller.customer
    if customer is None:
        raise OsmoError(
            "auth", "forbidden", "This token names no customer (it has no id/tenantKey)", status=403
        )
    return SelfPublic(
        id=customer.id,
        name=customer.name,
        internal_id=customer.tenant_key,
        tenant_key=customer.tenant_key,
        fields=customer.fields,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


@router.post("/connections/{connection_id}/api/{path:path}", responses=errors(400, 404, 502))
async def request_through_connection(
    connection_id: str,
    path: str,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """`connection.request(path, data)`: POSTs `data` to `path` of the app's API, as the
    proxy does (same auth, refresh, redaction and logging)."""
    ctx = await caller_connection_context(services, session, caller, connection_id)
    return await proxy_request(services, ctx, path, request)


@router.post(
    "/data-source-instance/collection/{method}",
    openapi_extra=compat_instances.selector_parameters("dataSourceKey"),
    responses=errors(400, 404, 409, 502),
    response_model_exclude_unset=True,
)
async def call_data_source_collection(
    method: MethodName,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: CollectionCall | None = None,
) -> CollectionResult:
    """`dataSourceInstance(…).listRecords()` and the like: the method of the collection the
    instance points at, with the instance's parameters under those of the body."""
    instance, source = await run_in_threadpool(_selected_source, request, session, caller)
    assert instance.connection_id is not None
    ctx = await connection_context(services, instance.connection_id)
    collection = _collection_of(ctx.connector, source)
    if collection is None:
        raise OsmoError(
            "bad_request",
            "no_collection",
            f"Data source {instance.key!r} points at no collection of this connection's app",
        )
    call = body or CollectionCall()
    result = await run_method(
        services.runtime,
        ctx,
        collection.key,
        API_METHODS[method],
        parameters={**(source.get("parameters") or {}), **call.parameters},
        id=call.id,
        fields=call.fields,
        query=call.query,
        cursor=call.cursor,
    )
    return CollectionResult.model_validate(result)


def _selected_source(request: Request, session: Any, caller: Any) -> tuple[Any, dict[str, Any]]:
    instance = compat_instances.selected_instance(request, session, caller, "data-source")
    get_connection(session, caller, instance.connection_id or "")
    return instance, ElementStore(session).resolve(instance)


def _collection_of(connector: ConnectorSpec, source: dict[str, Any]) -> DataCollection | None:
    """The collection a resolved data source points at: by key, or by its unified model."""
    if source.get("collectionKey"):
        return connector.collection(source["collectionKey"])
    udm = source.get("udm")
    return next((c for c in connector.data_collections if c.udm and c.udm.model == udm), None)
