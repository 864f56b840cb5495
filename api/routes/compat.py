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

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CallerDep, ServicesDep, SessionDep
from api.routes import compat_instances, proxy
from api.routes.connections import get_connection
from api.routes.operations import CollectionCall, MethodName, call_collection_method
from connectors.spec import ConnectorSpec, DataCollection
from core.elements.store import ElementStore
from core.errors import OsmoError

router = APIRouter(tags=["membrane-compatibility"])
router.include_router(compat_instances.router)


@router.get("/self")
def read_self(caller: CallerDep) -> dict[str, Any]:
    """The customer the token names: `internalId` is the product's id for it (`tenantKey`)."""
    customer = caller.customer
    if customer is None:
        raise OsmoError(
            "auth", "forbidden", "This token names no customer (it has no id/tenantKey)", status=403
        )
    return {
        "id": customer.id,
        "name": customer.name,
        "internalId": customer.tenant_key,
        "tenantKey": customer.tenant_key,
        "fields": customer.fields,
        "createdAt": customer.created_at,
        "updatedAt": customer.updated_at,
    }


@router.post("/connections/{connection_id}/api/{path:path}")
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
    return await proxy.proxy(connection_id, path, request, caller, services, session)


@router.post(
    "/data-source-instance/collection/{method}",
    openapi_extra=compat_instances.selector_parameters("dataSourceKey"),
)
async def call_data_source_collection(
    method: MethodName,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: CollectionCall | None = None,
) -> dict[str, Any]:
    """`dataSourceInstance(…).listRecords()` and the like: the method of the collection the
    instance points at, with the instance's parameters under those of the body."""
    instance = compat_instances.selected_instance(request, session, caller, "data-source")
    assert instance.connection_id is not None
    store = ElementStore(session)
    source = store.resolve(instance)
    connection = get_connection(session, caller, instance.connection_id)
    connector = services.registry.get(services.connections.load(connection.id).connector_key)
    collection = _collection_of(connector, source) if connector else None
    if collection is None:
        raise OsmoError(
            "bad_request",
            "no_collection",
            f"Data source {instance.key!r} points at no collection of this connection's app",
        )
    call = body or CollectionCall()
    call = call.model_copy(
        update={"parameters": {**(source.get("parameters") or {}), **call.parameters}}
    )
    return await call_collection_method(
        connection.id, collection.key, method, caller, services, session, call
    )


def _collection_of(connector: ConnectorSpec, source: dict[str, Any]) -> DataCollection | None:
    """The collection a resolved data source points at: by key, or by its unified model."""
    if source.get("collectionKey"):
        return connector.collection(source["collectionKey"])
    udm = source.get("udm")
    return next((c for c in connector.data_collections if c.udm and c.udm.model == udm), None)
