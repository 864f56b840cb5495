"""App events: events the product sends to Osmo, starting and resuming flows.

`POST /app-events/{typeKey}` (customer token): the body is the event's payload, checked against
the type's schema (422 with paths). Every enabled flow instance of the customer's connections
whose `app-event-trigger` has this `appEventType` (and whose filter passes) starts a FlowRun
(id deterministic from the app event and the instance); every running FlowRun of the customer
that waits for app events (search attribute `WaitsForAppEvents`) gets the event as its `event`
signal. `POST /app-events/{typeKey}/webhook` (workspace/admin token): the product's backend
sends events of any customer to one URL; the type's `customerFormula` over `{payload}` gives
the customer's tenantKey.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import AdminDep, CallerDep, ServicesDep, SessionDep
from api.models.errors import errors
from api.models.events import AppEventResult
from api.services import Services
from core.elements.models import Element
from core.elements.resolve import resolve_flow_instance
from core.elements.snapshots import FlowSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError, not_found, validation_error
from core.events.models import AppEventLog
from core.formulas import evaluate, matches_filter
from core.models import Connection, Customer, new_id
from core.schemas import validate_value
from workflows import search_attributes as sa
from workflows.flow_state import FlowRunInput
from workflows.starts import start_flow_run

log = logging.getLogger(__name__)

router = APIRouter(tags=["app-events"])

TRIGGER = "app-event-trigger"
KIND = "app-event-types"


def app_event_run_id(app_event_id: str, flow_instance_id: str) -> str:
    """The id of the run one app event starts for one flow instance (a retry finds it)."""
    digest = hashlib.sha256(f"{app_event_id}\x00{flow_instance_id}".encode()).hexdigest()
    return f"flow-run-app-event-{digest[:40]}"


def _type_definition(session: Session, type_key: str) -> dict[str, Any]:
    store = ElementStore(session)
    try:
        element = store.find(KIND, type_key)
    except OsmoError as exc:
        raise not_found("app_event_type", type_key) from exc
    return store.resolve(element)


def _check_payload(definition: dict[str, Any], payload: Any) -> None:
    schema = definition.get("schema")
    if not schema:
        return
    problems = validate_value(payload, schema)
    if problems:
        raise validation_error(
            [
                {"path": f"payload.{p.path}" if p.path else "payload", "message": p.message}
                for p in problems
            ]
        )


@dataclass
class Launch:
    run_id: str
    run_input: FlowRunInput


def _trigger(snapshot: FlowSnapshot) -> dict[str, Any] | None:
    return next((n for n in snapshot.nodes.values() if n.get("type") == TRIGGER), None)


def _record(
    services: Services, customer_id: str, type_key: str, payload: Any
) -> tuple[str, list[Launch]]:
    """Logs the app event and finds the runs it starts: the customer's enabled flow
    instances whose `app-event-trigger` takes this type and whose filter passes."""
    app_event_id = new_id()
    text = json.dumps(payload)
    limit = services.settings.log_body_limit
    launches: list[Launch] = []
    with Session(services.engine, expire_on_commit=False) as session:
        session.add(
            AppEventLog(
                id=app_event_id,
                customer_id=customer_id,
                type_key=type_key,
                payload=text if len(text) <= limit else text[:limit] + "…[truncated]",
            )
        )
        session.commit()
        instances = session.exec(
            select(Element)
            .join(Connection, Connection.id == Element.connection_id)  # type: ignore[arg-type]
            .where(Element.kind == "flows", Connection.customer_id == customer_id)
            .order_by(col(Element.created_at), col(Element.id))
        ).all()
        store = ElementStore(session)
        output = {
            "type": "app-event",
            "appEventId": app_event_id,
            "appEventType": type_key,
            "payload": payload,
        }
        for instance in instances:
            definition = store.resolve(instance)
            if not definition.get("enabled", True):
                continue
            nodes = (definition.get("nodes") or {}).values()
            if not any(
                n.get("type") == TRIGGER and (n.get("config") or {}).get("appEventType") == type_key
                for n in nodes
            ):
                continue
            try:
                snapshot = resolve_flow_instance(session, store, instance)
            except OsmoError as exc:  # an instance that cannot resolve starts nothing
                log.warning("app event %s: flow instance %s: %s", app_event_id, instance.id, exc)
                continue
            trigger = _trigger(snapshot) or {}
            condition = (trigger.get("config") or {}).get("filter")
            if condition and not matches_filter(condition, {"event": output, "trigger": output}):
                continue
            launches.append(
                Launch(
                    app_event_run_id(app_event_id, instance.id),
                    FlowRunInput(
                        snapshot,
                        output,
                        trigger_type=TRIGGER,
                        history_limit=services.settings.flow_history_limit,
                        launched_by={"type": "app-event", "appEventId": app_event_id},
                    ),
                )
            )
        session.commit()
    return app_event_id, launches


async def _start(client: Client, services: Services, launch: Launch) -> str:
    # A retried request finds the run it started (the id is deterministic).
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await start_flow_run(
            client,
            services.settings.task_queue,
            launch.run_input,
            launch.run_id,
            reject_duplicate=True,
        )
    return launch.run_id


async def _resume(client: Client, customer_id: str, event: dict[str, Any]) -> list[str]:
    """Signals the event to the customer's running flow runs that wait for app events."""
    query = (
        f'{sa.WAITS_FOR_APP_EVENTS.name} = "true" AND {sa.CUSTOMER_ID.name} = "{customer_id}" '
        'AND ExecutionStatus = "Running" AND WorkflowType = "FlowRun"'
    )
    run_ids = [execution.id async for execution in client.list_workflows(query)]
    await asyncio.gather(
        *(client.get_workflow_handle(run_id).signal("event", event) for run_id in run_ids)
    )
    return run_ids


def _save_runs(
    services: Services, app_event_id: str, launched: list[str], resumed: list[str]
) -> None:
    with Session(services.engine) as session:
        row = session.get(AppEventLog, app_event_id)
        if row is not None:
            row.launched_flow_run_ids = launched
            row.resumed_flow_run_ids = resumed
            session.add(row)
        session.commit()


async def send_app_event(
    services: Services, customer_id: str, type_key: str, payload: Any
) -> AppEventResult:
    client = await services.temporal()  # 503 before anything is logged
    app_event_id, launches = await run_in_threadpool(
        _record, services, customer_id, type_key, payload
    )
    event = {
        "type": "app-event",
        "appEventId": app_event_id,
        "appEventType": type_key,
        "payload": payload,
    }
    try:
        launched = list(await asyncio.gather(*(_start(client, services, x) for x in launches)))
        resumed = await _resume(client, customer_id, event)
    except RPCError as exc:
        raise OsmoError(
            "unavailable",
            "temporal_unavailable",
            f"Temporal did not take the app event: {exc}",
            {"appEventId": app_event_id},
            status=503,
        ) from exc
    await run_in_threadpool(_save_runs, services, app_event_id, launched, resumed)
    return AppEventResult(
        id=app_event_id, launched_flow_run_ids=launched, resumed_flow_run_ids=resumed
    )


def _checked(session: Session, type_key: str, payload: Any) -> dict[str, Any]:
    definition = _type_definition(session, type_key)
    session.commit()
    _check_payload(definition, payload)
    return definition


@router.post(
    "/app-events/{type_key}",
    status_code=201,
    response_model=AppEventResult,
    responses=errors(404, 503),
)
async def send_customer_app_event(
    type_key: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    payload: Any = Body(..., description="The event's payload, as the type's schema says."),
) -> AppEventResult:
    """Sends an app event of the token's customer: starts the matching flows, resumes the
    runs waiting for it."""
    if caller.customer_id is None:
        raise OsmoError(
            "bad_request",
            "customer_required",
            "Send app events with a customer token (or to /app-events/{typeKey}/webhook)",
            status=400,
        )
    await run_in_threadpool(_checked, session, type_key, payload)
    return await send_app_event(services, caller.customer_id, type_key, payload)


def _customer_of(session: Session, definition: dict[str, Any], payload: Any) -> str:
    formula = definition.get("customerFormula")
    if formula is None:
        raise OsmoError(
            "bad_request",
            "customer_formula_missing",
            "This app event type has no customerFormula: send it with a customer token",
            status=400,
        )
    try:
        tenant_key = evaluate(formula, {"payload": payload})
    except Exception as exc:
        raise validation_error(
            [{"path": "payload", "message": f"customerFormula failed: {exc}"}]
        ) from exc
    if not isinstance(tenant_key, (str, int)) or isinstance(tenant_key, bool) or tenant_key == "":
        raise validation_error(
            [{"path": "payload", "message": "customerFormula gives no tenantKey"}]
        )
    customer = session.exec(select(Customer).where(Customer.tenant_key == str(tenant_key))).first()
    session.commit()
    if customer is None:
        raise not_found("customer", str(tenant_key))
    return customer.id


def _global_target(session: Session, type_key: str, payload: Any) -> str:
    definition = _checked(session, type_key, payload)
    return _customer_of(session, definition, payload)


@router.post(
    "/app-events/{type_key}/webhook",
    status_code=201,
    response_model=AppEventResult,
    responses=errors(400, 404, 503),
)
async def send_app_event_webhook(
    type_key: str,
    _: AdminDep,
    services: ServicesDep,
    session: SessionDep,
    payload: Any = Body(..., description="The event's payload, as the type's schema says."),
) -> AppEventResult:
    """One URL for the product's backend (workspace token): the type's `customerFormula` over
    `{payload}` gives the customer's tenantKey."""
    customer_id = await run_in_threadpool(_global_target, session, type_key, payload)
    return await send_app_event(services, customer_id, type_key, payload)
