"""Element instances the way Membrane's SDK selects them: `?id=…`, or a connection plus
`<kind>Key`, in the query of singular routes (`/flow-instance`), beside plural lists
(`/flow-instances`) and id routes (`/flow-instances/{id}/reset`).

Every route calls the store functions the `/connections/{id}/{kind}/{key}` routes use, with the
same rules (customers change only what the kind lets them, revisions guard concurrent edits).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from api.actions import ActionRunBody, run_for_connection
from api.compat_selectors import action_request, instance_by_id, select_connection
from api.deps import Caller, CallerDep, ServicesDep, SessionDep, get_connection, get_integration
from api.element_bodies import apply_changes, element_public
from api.event_hooks import after_write
from api.models.actions import ActionRunResult
from api.models.data_links import DataLinkCreate, DataLinkList, DataLinkPublic
from api.models.elements import models_for
from api.models.errors import errors
from api.services import Services
from core import data_links
from core.elements.kinds import KINDS
from core.elements.models import UNIVERSAL, Element
from core.elements.store import ElementStore
from core.errors import validation_error
from core.models import Connection

router = APIRouter(tags=["membrane-compatibility"])

# Membrane's singular element names → Osmo's kinds, and the query parameter naming the element.
INSTANCE_KINDS = {
    "action": ("actions", "actionKey"),
    "flow": ("flows", "flowKey"),
    "data-source": ("data-sources", "dataSourceKey"),
    "field-mapping": ("field-mappings", "fieldMappingKey"),
    "data-link-table": ("data-link-tables", "dataLinkTableKey"),
}


def selector_parameters(key_param: str) -> dict[str, Any]:
    """OpenAPI parameters of a selector (read from the query, as their names vary by kind)."""
    names = {
        "id": "The instance's id (alone selects it).",
        "connectionId": "The connection.",
        "integrationKey": "Instead of connectionId: the caller's only connection to it.",
        key_param: "The element's key.",
        key_param.removesuffix("Key") + "Id": "Instead of the key: the element's id.",
        "instanceKey": "Which of several instances of the element on the connection.",
    }
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": {"type": "string"}}
            for name, text in names.items()
        ]
    }  # fmt: skip


def selected_instance(request: Request, session: Session, caller: Caller, name: str) -> Element:
    """The instance the query names: `id`, or a connection plus `<kind>Key` (or `<kind>Id`).

    The connection is `connectionId`, or the caller's only connection to `integrationKey`; the
    instance is created on first use, as `GET /connections/{id}/{kind}/{key}` does.
    """
    kind, key_param = INSTANCE_KINDS[name]
    query = request.query_params
    if query.get("id"):
        return instance_by_id(session, caller, kind, query["id"])
    id_param = key_param.removesuffix("Key") + "Id"
    selector = query.get(key_param) or query.get(id_param)
    if not selector:
        raise validation_error(
            [{"path": key_param, "message": f"give id, or connectionId and {key_param}"}]
        )
    connection = select_connection(
        session,
        caller,
        query.get("connectionId"),
        query.get("integrationKey"),
        query.get("connectionKey"),
    )
    store = ElementStore(session)
    key = store.find(kind, selector).key if query.get(id_param) else selector
    return store.instance(kind, key, connection, query.get("instanceKey"))


def _customized(
    services: Services, session: Session, caller: Caller, element: Element, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH of an instance, as `PATCH /connections/{id}/{kind}/{key}` does it (enabling or
    disabling a flow instance asks for an event sync of its connection)."""
    store = ElementStore(session)
    updated = apply_changes(store, element, body, customer=not caller.is_admin)
    answer = element_public(store, updated)
    after_write(services, session, updated)
    return answer


def _instance_routes(name: str) -> None:
    kind, key_param = INSTANCE_KINDS[name]
    selector_doc = selector_parameters(key_param)
    models = models_for(KINDS[kind])

    @router.get(
        f"/{name}-instance",
        name=f"read_{name}_instance",
        openapi_extra=selector_doc,
        response_model=models.public,
        response_model_exclude_unset=True,
        responses=errors(404, 409),
    )
    def read_instance(request: Request, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
        store = ElementStore(session)
        return element_public(store, selected_instance(request, session, caller, name))

    @router.patch(
        f"/{name}-instance",
        name=f"patch_{name}_instance",
        openapi_extra=selector_doc,
        response_model=models.public,
        response_model_exclude_unset=True,
        responses=errors(404, 409),
    )
    def patch_instance(
        request: Request,
        caller: CallerDep,
        services: ServicesDep,
        session: SessionDep,
        body: Annotated[
            dict[str, Any],
            Body(description="Changes, as `PATCH /connections/{id}/{kind}/{key}` takes them."),
        ],
    ) -> dict[str, Any]:
        """Customizes the instance (e.g. `{enabled: false}` on a flow instance)."""
        element = selected_instance(request, session, caller, name)
        return _customized(services, session, caller, element, body)

    @router.post(
        f"/{name}-instance/reset",
        name=f"reset_{name}_instance",
        openapi_extra=selector_doc,
        response_model=models.public,
        response_model_exclude_unset=True,
        responses=errors(404),
    )
    def reset_instance(
        request: Request, caller: CallerDep, services: ServicesDep, session: SessionDep
    ) -> dict[str, Any]:
        store = ElementStore(session)
        element = store.reset(selected_instance(request, session, caller, name))
        answer = element_public(store, element)
        after_write(services, session, element)
        return answer

    @router.post(
        f"/{name}-instances/{{instance_id}}/reset",
        name=f"reset_{name}_instance_by_id",
        response_model=models.public,
        response_model_exclude_unset=True,
        responses=errors(404),
    )
    def reset_instance_by_id(
        instance_id: str, caller: CallerDep, services: ServicesDep, session: SessionDep
    ) -> dict[str, Any]:
        store = ElementStore(session)
        element = store.reset(instance_by_id(session, caller, kind, instance_id))
        answer = element_public(store, element)
        after_write(services, session, element)
        return answer

    @router.get(
        f"/{name}-instances",
        name=f"list_{name}_instances",
        response_model=models.list,
        response_model_exclude_unset=True,
        responses=errors(404),
    )
    def list_instances(request: Request, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
        """The instances that exist (none is created), only on the caller's connections;
        filters `connectionId`, `integrationKey`, `<kind>Key`, `instanceKey`."""
        query = request.query_params
        statement = (
            select(Element)
            .join(Connection, Connection.id == Element.connection_id)  # type: ignore[arg-type]
            .where(Element.kind == kind)
            .order_by(Element.created_at, Element.id)  # type: ignore[arg-type]
        )
        if not caller.is_admin:
            statement = statement.where(Connection.customer_id == caller.customer_id)
        if query.get("connectionId"):
            statement = statement.where(Element.connection_id == query["connectionId"])
        if query.get("integrationKey"):
            integration = get_integration(session, query["integrationKey"])
            statement = statement.where(Element.integration_id == integration.id)
        if query.get(key_param):
            statement = statement.where(Element.key == query[key_param])
        if query.get("instanceKey"):
            statement = statement.where(Element.instance_key == query["instanceKey"])
        store = ElementStore(session)
        items = [element_public(store, e) for e in session.exec(statement).all()]
        return {"items": items, "cursor": None}

    @router.get(
        f"/connections/{{connection_id}}/{kind}",
        name=f"list_connection_{kind}",
        response_model=models.list,
        response_model_exclude_unset=True,
        responses=errors(404),
    )
    def list_connection_elements(
        connection_id: str, caller: CallerDep, session: SessionDep
    ) -> dict[str, Any]:
        """The connection's instance of every element of the kind that applies to it: the
        integration's, and the universal ones it does not override (created on first use)."""
        connection = get_connection(session, caller, connection_id)
        store = ElementStore(session)
        own = store.list(kind, f"integration:{connection.integration_id}")
        keys = {e.key for e in own}
        applicable = own + [e for e in store.list(kind, UNIVERSAL) if e.key not in keys]
        instances = [store.instance(kind, e.key, connection) for e in applicable]
        items = sorted((element_public(store, e) for e in instances), key=lambda e: e["key"])
        return {"items": items, "cursor": None}


for _name in INSTANCE_KINDS:
    _instance_routes(_name)


@router.post(
    "/action-instance/run",
    openapi_extra=selector_parameters("actionKey"),
    responses=errors(400, 404, 409, 502, 504),
)
async def run_action_instance(
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: Annotated[Any, Body(description="The raw input, or Osmo's `{input}`.")] = None,
) -> ActionRunResult:
    """Runs the selected action instance; the body is the raw input (or Osmo's `{input}`)."""
    instance = await run_in_threadpool(selected_instance, request, session, caller, "action")
    assert instance.connection_id is not None and instance.parent_id is not None
    run = action_request(body, instance.connection_id)
    run_body = ActionRunBody(input=run.input, instance_key=instance.instance_key)
    # The parent's id selects the action at whichever layer the instance follows.
    return await run_for_connection(
        services, session, caller, instance.parent_id, instance.connection_id, run_body
    )


def _link_table(request: Request, session: Session, caller: Caller) -> tuple[str, str]:
    instance = selected_instance(request, session, caller, "data-link-table")
    assert instance.connection_id is not None
    return instance.connection_id, instance.key


@router.get(
    "/data-link-table-instance/links",
    openapi_extra=selector_parameters("dataLinkTableKey"),
    responses=errors(404),
)
def list_instance_links(request: Request, caller: CallerDep, session: SessionDep) -> DataLinkList:
    """The links of the selected table, filtered by `appRecordId` / `externalRecordId`."""
    connection_id, key = _link_table(request, session, caller)
    query = request.query_params
    links = data_links.find_links(
        session,
        connection_id,
        key,
        app_record_id=query.get("appRecordId"),
        external_record_id=query.get("externalRecordId"),
    )
    return DataLinkList(items=[DataLinkPublic.model_validate(link) for link in links])


@router.post(
    "/data-link-table-instance/links",
    status_code=201,
    openapi_extra=selector_parameters("dataLinkTableKey"),
    responses=errors(404, 409),
)
def create_instance_link(
    request: Request, body: DataLinkCreate, caller: CallerDep, session: SessionDep
) -> DataLinkPublic:
    connection_id, key = _link_table(request, session, caller)
    link = data_links.create_link(
        session, connection_id, key, body.app_record_id, body.external_record_id, body.direction
    )
    return DataLinkPublic.model_validate(link)
