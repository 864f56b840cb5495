"""Running field mappings for a connection, and reading their app schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.deps import Caller, CallerDep, ServicesDep, SessionDep, connection_context, get_connection
from api.lookups import ConnectionLookups
from api.models.errors import errors
from api.models.field_mappings import FieldMappingRun, FieldMappingRunResult
from connectors.runtime import ConnectionContext
from core.elements.store import ElementStore
from core.errors import OsmoError, validation_error
from core.field_mappings import app_schema, apply_mapping, effective_mapping

router = APIRouter(tags=["field-mappings"])


async def _mapping(
    services: ServicesDep, session: Session, caller: Caller, selector: str, body: FieldMappingRun
) -> tuple[Any, ConnectionContext]:
    """The mapping of the requested direction, and the connection's context to run it in."""
    connection = await run_in_threadpool(get_connection, session, caller, body.connection_id)
    ctx = await connection_context(services, connection.id)
    definition = await run_in_threadpool(
        effective_mapping,
        ElementStore(session),
        connection,
        selector,
        ctx.connector.data_collections,
    )
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
    return mapping, ctx


@router.post("/field-mappings/{selector}/run", responses=errors(400, 404, 502))
async def run_field_mapping(
    selector: str,
    body: FieldMappingRun,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> FieldMappingRunResult:
    """Maps one record: `import` (external → product) or `export` (product → external)."""
    mapping, ctx = await _mapping(services, session, caller, selector, body)
    resolver = ConnectionLookups(services, session, ctx)
    [output] = await apply_mapping(mapping, [body.input], resolver)
    return FieldMappingRunResult(output=output)


@router.get("/field-mappings/{selector}/app-schema", responses=errors(404))
def read_app_schema(selector: str, _: CallerDep, session: SessionDep) -> dict[str, Any]:
    """The product's JSON Schema the mapping maps to (a JSON Schema, so any object)."""
    store = ElementStore(session)
    return app_schema(store, store.resolve(store.find("field-mappings", selector)))
