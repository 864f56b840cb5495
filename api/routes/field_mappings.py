"""Running field mappings for a connection, and reading their app schema."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from api.deps import CallerDep, ServicesDep, SessionDep
from api.lookups import ConnectionLookups
from api.models import ApiModel
from api.routes.connections import get_connection
from api.services import Services
from connectors.spec import ConnectorSpec, DataCollection
from core.elements.store import ElementStore
from core.errors import OsmoError, validation_error
from core.field_mappings import apply_mapping, default_mapping
from core.models import Connection

router = APIRouter(tags=["field-mappings"])


class FieldMappingRun(ApiModel):
    connection_id: str
    direction: Literal["import", "export"]
    input: dict[str, Any] = Field(default_factory=dict)


def app_schema(store: ElementStore, definition: dict[str, Any]) -> dict[str, Any]:
    if definition.get("appSchema"):
        return dict(definition["appSchema"])
    key = definition.get("appDataSchemaKey")
    if key:
        return dict(store.resolve(store.find("app-data-schemas", key)).get("schema") or {})
    return {}


def data_collection(
    store: ElementStore, connection: Connection, connector: ConnectorSpec, key: str | None
) -> DataCollection | None:
    """The collection the mapping's data source points at, for this connection."""
    if not key:
        return None
    source = store.resolve(store.instance("data-sources", key, connection))
    if source.get("collectionKey"):
        return connector.collection(source["collectionKey"])
    udm = source.get("udm")
    return next((c for c in connector.data_collections if c.udm and c.udm.model == udm), None)


def effective_mapping(
    services: Services, store: ElementStore, connection: Connection, selector: str
) -> dict[str, Any]:
    """The connection's resolved field mapping, with defaults generated where missing."""
    element = store.find("field-mappings", selector)
    definition = store.resolve(store.instance("field-mappings", element.key, connection))
    if definition.get("importValue") is not None and definition.get("exportValue") is not None:
        return definition
    stored = services.connections.load(connection.id)
    connector = services.registry.get(stored.connector_key)
    collection = (
        data_collection(store, connection, connector, definition.get("dataSourceKey"))
        if connector
        else None
    )
    schema = app_schema(store, definition)
    if collection is not None and collection.udm is not None and schema:
        imports, exports = default_mapping(schema, collection.udm.to_udm, collection.udm.from_udm)
        if definition.get("importValue") is None:
            definition["importValue"] = imports
        if definition.get("exportValue") is None:
            definition["exportValue"] = exports
    return definition


@router.post("/field-mappings/{selector}/run")
async def run_field_mapping(
    selector: str,
    body: FieldMappingRun,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Maps one record: `import` (external → product) or `export` (product → external)."""
    connection = get_connection(session, caller, body.connection_id)
    store = ElementStore(session)
    definition = effective_mapping(services, store, connection, selector)
    allowed = definition.get("direction", "both")
    if allowed not in ("both", body.direction):
        raise validation_error(
            [{"path": "direction", "message": f"this mapping only runs {allowed}"}]
        )
    mapping = definition.get(f"{body.direction}Value")
    if mapping is None:
        raise OsmoError(
            "bad_request",
            "mapping_not_defined",
            f"The field mapping has no {body.direction} mapping and none could be generated",
        )
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    resolver = ConnectionLookups(services, session, ctx)
    [output] = await apply_mapping(mapping, [body.input], resolver)
    return {"output": output}


@router.get("/field-mappings/{selector}/app-schema")
def read_app_schema(selector: str, _: CallerDep, session: SessionDep) -> dict[str, Any]:
    store = ElementStore(session)
    return app_schema(store, store.resolve(store.find("field-mappings", selector)))
