"""Integrations (admin writes): the workspace's use of connectors, with OAuth app secrets."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.deps import AdminDep, CallerDep, IntegrationDep, ServicesDep, SessionDep
from api.models.errors import errors
from api.models.integrations import IntegrationCreate, IntegrationPublic, IntegrationUpdate
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Limit
from api.services import Services
from connectors.spec import ConnectorSpec
from core.elements.models import Element
from core.errors import OsmoError, conflict, validation_error
from core.models import Connection, ConnectSession, Integration, OAuthState, utcnow

router = APIRouter(prefix="/integrations", tags=["integrations"])


def _public(services: Services, integration: Integration, secrets: bool) -> IntegrationPublic:
    public = IntegrationPublic.model_validate(integration)
    connector = services.registry.get(integration.connector_key)
    public.logo_uri = connector.logo_url if connector else None
    public.has_client_secret = integration.client_secret_encrypted is not None
    if secrets and integration.client_secret_encrypted:
        public.client_secret = services.encryptor.decrypt(integration.client_secret_encrypted)
    return public


_PARAMETER = re.compile(r"\{\{\s*integration\.parameters\.([A-Za-z0-9_\-]+)\s*\}\}")


def required_parameters(connector: ConnectorSpec, auth_options: list[str]) -> list[str]:
    """The `integration.parameters` a connection of this integration cannot work without.

    Those the connector's templates read, except in its webhooks (a missing webhook secret
    rejects deliveries, 401) and in auth options the integration does not enable: a template
    whose value is missing fails every request (`template_value_missing`), so a missing
    `baseUrl` would only surface when a customer first connects.
    """
    enabled = [o for o in connector.auth if not auth_options or o.key in auth_options]
    text = connector.model_dump_json(by_alias=True, exclude={"auth", "webhooks"})
    text += "".join(option.model_dump_json(by_alias=True) for option in enabled)
    return sorted(set(_PARAMETER.findall(text)))


def _check(
    services: Services,
    connector_key: str,
    auth_options: list[str],
    parameters: dict[str, Any] | None = None,
) -> None:
    """Checks the connector, the auth options and, given `parameters`, that every parameter
    the connector requires has a value (422 with the path of each problem)."""
    connector = services.registry.get(connector_key)
    if connector is None:
        raise validation_error(
            [{"path": "connectorKey", "message": f"unknown connector {connector_key!r}"}]
        )
    known = {option.key for option in connector.auth}
    problems = [
        {"path": f"authOptions[{i}]", "message": f"connector has no auth option {key!r}"}
        for i, key in enumerate(auth_options)
        if key not in known
    ]
    if parameters is not None and not problems:
        problems += [
            {"path": f"parameters.{name}", "message": f"connector {connector_key} requires it"}
            for name in required_parameters(connector, auth_options)
            if parameters.get(name) in (None, "")
        ]
    if problems:
        raise validation_error(problems)


def _unless_none(value: Any, current: Any) -> Any:
    return current if value is None else value


@router.get("", response_model=Page[IntegrationPublic], responses=errors(400))
def list_integrations(
    _: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[IntegrationPublic]:
    rows, next_cursor = paginate(
        session, select(Integration), Integration, cursor=cursor, limit=limit
    )
    return Page(items=[_public(services, r, False) for r in rows], cursor=next_cursor)


@router.post("", response_model=IntegrationPublic, status_code=201, responses=errors(409))
def create_integration(
    _: AdminDep, services: ServicesDep, session: SessionDep, body: IntegrationCreate
) -> IntegrationPublic:
    _check(services, body.connector_key, body.auth_options, body.parameters)
    connector = services.registry.get(body.connector_key)
    assert connector is not None
    integration = Integration(
        key=body.key,
        name=body.name or connector.name,
        connector_key=body.connector_key,
        client_id=body.client_id,
        client_secret_encrypted=(
            services.encryptor.encrypt(body.client_secret) if body.client_secret else None
        ),
        scopes=body.scopes,
        auth_options=body.auth_options,
        parameters=body.parameters,
    )
    session.add(integration)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict("integration_exists", f"Integration {body.key!r} already exists") from exc
    return _public(services, integration, False)


@router.get("/{integration_key}", response_model=IntegrationPublic, responses=errors(404))
def read_integration(
    caller: CallerDep,
    services: ServicesDep,
    integration: IntegrationDep,
    include_secrets: bool = Query(False, alias="includeSecrets"),
) -> IntegrationPublic:
    if include_secrets and not caller.is_admin:
        raise OsmoError("auth", "forbidden", "includeSecrets needs an admin token", status=403)
    return _public(services, integration, include_secrets)


@router.patch("/{integration_key}", response_model=IntegrationPublic, responses=errors(404))
def update_integration(
    _: AdminDep,
    services: ServicesDep,
    session: SessionDep,
    integration: IntegrationDep,
    body: IntegrationUpdate,
) -> IntegrationPublic:
    changes = body.model_dump(exclude_unset=True)
    if "auth_options" in changes or "parameters" in changes:
        # Checked as they will be: a field left out (or null) keeps its value.
        _check(
            services,
            integration.connector_key,
            _unless_none(changes.get("auth_options"), integration.auth_options),
            _unless_none(changes.get("parameters"), integration.parameters),
        )
    if "client_secret" in changes:
        secret = changes.pop("client_secret")
        integration.client_secret_encrypted = services.encryptor.encrypt(secret) if secret else None
    for field, value in changes.items():
        setattr(integration, field, value if value is not None else getattr(integration, field))
    integration.updated_at = utcnow()
    session.add(integration)
    session.commit()
    return _public(services, integration, False)


@router.delete("/{integration_key}", status_code=204, responses=errors(404, 409))
def delete_integration(_: AdminDep, session: SessionDep, integration: IntegrationDep) -> Response:
    if session.exec(
        select(Connection.id).where(Connection.integration_id == integration.id)
    ).first():
        raise conflict(
            "integration_has_connections",
            "Customers are connected to this integration; delete their connections first",
        )
    session.execute(delete(Element).where(Element.integration_id == integration.id))  # type: ignore[arg-type]
    # Connect attempts still pending for it can no longer complete.
    session.execute(delete(OAuthState).where(OAuthState.integration_id == integration.id))  # type: ignore[arg-type]
    session.execute(delete(ConnectSession).where(ConnectSession.integration_id == integration.id))  # type: ignore[arg-type]
    session.delete(integration)
    session.commit()
    return Response(status_code=204)
