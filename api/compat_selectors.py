"""How Membrane's SDK names things, translated to Osmo's rows.

The SDK (`@membranehq/sdk`) names a connection by `connectionId` or by `integrationKey` (the
caller's one connection to that integration), an action run's input either as the whole body
or as Osmo's `{input}`, and an element instance by `id` or by connection + `<kind>Key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from api.deps import Caller, get_connection, get_integration
from api.models import ApiModel
from core.elements.models import Element
from core.errors import OsmoError, not_found, validation_error
from core.models import Connection

# A body is Osmo's `{input, …}` form only when it is a non-empty object whose keys all come
# from here; anything else (including `{}` and objects with other keys) is the raw input.
OSMO_FORM_KEYS = frozenset({"input", "instanceKey", "connectionId"})


class ActionRunForm(ApiModel):
    """Osmo's form of an action run body."""

    input: Any = None
    instance_key: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True)
class ActionRequest:
    """What to run: the input, and (where the request says) which connection and instance."""

    input: Any
    instance_key: str | None = None
    connection_id: str | None = None


def action_request(
    body: Any, connection_id: str | None = None, instance_key: str | None = None
) -> ActionRequest:
    """The run request from a body in either form and the SDK's query parameters.

    Args:
        body: Osmo's `{input, instanceKey?, connectionId?}` or the raw input (see
            `OSMO_FORM_KEYS` for how the two are told apart).
        connection_id: `connectionId` from the path or the query.
        instance_key: `instanceKey` from the query.

    Raises:
        OsmoError: 422 when the body's form is malformed, or when the body and the query
            both give `connectionId` (or `instanceKey`) with different values.
    """
    request = ActionRequest(body)
    if isinstance(body, dict) and body and body.keys() <= OSMO_FORM_KEYS:
        try:
            form = ActionRunForm.model_validate(body)
        except ValidationError as exc:
            raise validation_error(
                [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
            ) from exc
        request = ActionRequest(form.input, form.instance_key, form.connection_id)
    return ActionRequest(
        request.input,
        _agreed("instanceKey", request.instance_key, instance_key),
        _agreed("connectionId", request.connection_id, connection_id),
    )


def _agreed(name: str, in_body: str | None, in_query: str | None) -> str | None:
    if in_body is not None and in_query is not None and in_body != in_query:
        raise validation_error(
            [{"path": name, "message": "the body and the query parameter give different values"}]
        )
    return in_body if in_body is not None else in_query


def select_connection(
    session: Session,
    caller: Caller,
    connection_id: str | None,
    integration_key: str | None = None,
    connection_key: str | None = None,
) -> Connection:
    """The connection named by id, or the caller's only connection to `integration_key`.

    Raises:
        OsmoError: 422 without either (or with `connectionKey`, which Osmo has no notion of),
            404 for an unknown or foreign connection, 409 when the customer has several
            connections to the integration.
    """
    if connection_key is not None:
        raise validation_error(
            [{"path": "connectionKey", "message": "connections have no keys; give connectionId"}]
        )
    if connection_id is not None:
        return get_connection(session, caller, connection_id)
    if integration_key is None:
        raise validation_error([{"path": "connectionId", "message": "is required"}])
    if caller.customer is None:
        raise validation_error(
            [{"path": "connectionId", "message": "an admin token must name the connection"}]
        )
    integration = get_integration(session, integration_key)
    rows = session.exec(
        select(Connection).where(
            Connection.customer_id == caller.customer.id,
            Connection.integration_id == integration.id,
        )
    ).all()
    session.commit()  # release the pooled connection before the caller awaits I/O
    if not rows:
        raise not_found("connection", f"integrationKey={integration_key}")
    if len(rows) > 1:
        raise OsmoError(
            "conflict",
            "several_connections",
            f"You have {len(rows)} connections to {integration_key!r}; give connectionId",
            {"connectionIds": [r.id for r in rows]},
            status=409,
        )
    return rows[0]


def instance_by_id(session: Session, caller: Caller, kind: str, instance_id: str) -> Element:
    """A connection-level element of `kind` by id (404 if it is not one the caller can see)."""
    element = session.get(Element, instance_id)
    connection = session.get(Connection, element.connection_id) if element else None
    session.commit()  # release the pooled connection before the caller awaits I/O
    if (
        element is None
        or element.kind != kind
        or connection is None
        or not caller.can_see(connection.customer_id)
    ):
        raise not_found(kind.rstrip("s").replace("-", "_") + "_instance", instance_id)
    return element
