"""Creating and re-creating connections: validate inputs, test credentials, store encrypted.

Shared by the connect page, the OAuth callback and `POST /connections`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fastapi.concurrency import run_in_threadpool
from jsonschema import Draft202012Validator
from sqlmodel import Session, select

from api.services import Services
from connectors.runtime import ConnectionContext, ConnectorError
from connectors.spec import AuthOption, ConnectorSpec
from core.errors import OsmoError, not_found
from core.models import Connection, ConnectionAttempt, ConnectionState, Integration, utcnow


def enabled_auth_options(connector: ConnectorSpec, integration: Integration) -> list[AuthOption]:
    """The connector's auth options this integration allows (all when none are listed)."""
    if not integration.auth_options:
        return list(connector.auth)
    return [option for option in connector.auth if option.key in integration.auth_options]


def resolve(
    services: Services, integration: Integration, auth_option_key: str | None
) -> tuple[ConnectorSpec, AuthOption]:
    connector = services.registry.get(integration.connector_key)
    if connector is None:
        raise not_found("connector", integration.connector_key)
    options = enabled_auth_options(connector, integration)
    if auth_option_key is None and options:
        return connector, options[0]
    option = next((o for o in options if o.key == auth_option_key), None)
    if option is None:
        raise OsmoError(
            "bad_request",
            "auth_option_not_enabled",
            f"Auth option {auth_option_key!r} is not enabled for integration {integration.key!r}",
            {"path": "authOptionKey"},
        )
    return connector, option


def input_problems(option: AuthOption, inputs: dict[str, Any]) -> list[dict[str, str]]:
    """Validation problems of the customer's inputs against the option's input schema."""
    if not option.input_schema:
        return []
    validator = Draft202012Validator(
        option.input_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    problems = []
    for error in sorted(validator.iter_errors(inputs), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in ["inputs", *error.absolute_path])
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path, message = f"inputs.{missing}", "is required"
        else:
            message = error.message if not _sensitive(option, error.absolute_path) else "is invalid"
        problems.append({"path": path, "message": message})
    return problems


def _sensitive(option: AuthOption, path: Any) -> bool:
    properties = (option.input_schema or {}).get("properties", {})
    first = next(iter(path), None)
    return bool(first is not None and properties.get(first, {}).get("isSensitive"))


def new_context(
    services: Services,
    integration: Integration,
    connector: ConnectorSpec,
    option: AuthOption,
    customer_id: str,
    inputs: dict[str, Any],
    credentials: dict[str, Any] | None = None,
) -> ConnectionContext:
    """A context for credentials that are not stored yet."""
    return ConnectionContext(
        connector=connector,
        auth=option,
        customer_id=customer_id,
        integration_key=integration.key,
        client_id=integration.client_id,
        client_secret=(
            services.encryptor.decrypt(integration.client_secret_encrypted)
            if integration.client_secret_encrypted
            else None
        ),
        integration_parameters=dict(integration.parameters),
        scopes=list(integration.scopes),
        inputs=inputs,
        credentials=credentials or {},
    )


def record_attempt(
    session: Session,
    *,
    customer_id: str | None,
    integration_key: str | None,
    auth_option_key: str | None,
    connection_id: str | None = None,
    error: OsmoError | None = None,
) -> None:
    session.add(
        ConnectionAttempt(
            customer_id=customer_id,
            integration_key=integration_key,
            auth_option_key=auth_option_key,
            connection_id=connection_id,
            success=error is None,
            error_key=error.key if error else None,
            error_message=error.message if error else None,
        )
    )
    session.commit()


async def establish(
    services: Services,
    session: Session,
    ctx: ConnectionContext,
    integration: Integration,
    *,
    connection_id: str | None = None,
    expires_at: datetime | None = None,
    name: str | None = None,
    reuse_existing: bool = False,
) -> Connection:
    """Tests `ctx`'s credentials, then creates the connection or reconnects `connection_id`.

    With `reuse_existing`, the customer's latest connection to the integration is reconnected
    instead of adding a second one (what the connect page does unless told otherwise).

    Raises:
        OsmoError: `connection_test_failed` (nothing is stored) when the test request fails.
    """
    assert ctx.customer_id is not None
    try:
        if ctx.token_expires_at is None:
            ctx.token_expires_at = expires_at
        await services.runtime.test(ctx)
    except ConnectorError as exc:
        error = OsmoError(
            "connection",
            "connection_test_failed",
            f"The credentials did not pass the connector's test request: {exc.message}",
            {"cause": exc.key, **exc.data},
            status=400,
        )
        await run_in_threadpool(
            partial(
                record_attempt,
                session,
                customer_id=ctx.customer_id,
                integration_key=integration.key,
                auth_option_key=ctx.auth.key,
                connection_id=connection_id,
                error=error,
            )
        )
        raise error from exc
    # The database work runs in a worker thread: the event loop keeps serving other requests.
    return await run_in_threadpool(
        _store, services, session, ctx, integration, connection_id, name, reuse_existing
    )


def _store(
    services: Services,
    session: Session,
    ctx: ConnectionContext,
    integration: Integration,
    connection_id: str | None,
    name: str | None,
    reuse_existing: bool,
) -> Connection:
    """Creates or reconnects the connection with `ctx`'s tested credentials, and records the
    attempt."""
    assert ctx.customer_id is not None
    connection = session.get(Connection, connection_id) if connection_id else None
    if connection is None and reuse_existing:
        connection = session.exec(
            select(Connection)
            .where(
                Connection.customer_id == ctx.customer_id,
                Connection.integration_id == integration.id,
            )
            .order_by(Connection.created_at.desc())  # type: ignore[attr-defined]
        ).first()
    if connection is None:
        connection = Connection(
            customer_id=ctx.customer_id,
            integration_id=integration.id,
            auth_option_key=ctx.auth.key,
            name=name or integration.name,
        )
    connection.auth_option_key = ctx.auth.key
    connection.inputs_encrypted = services.encryptor.encrypt_json(ctx.inputs)
    connection.credentials_encrypted = services.encryptor.encrypt_json(ctx.credentials)
    connection.token_expires_at = ctx.token_expires_at
    connection.credentials_version += 1
    connection.state = ConnectionState.connected
    connection.disconnect_reason = None
    connection.error_message = None
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    record_attempt(
        session,
        customer_id=ctx.customer_id,
        integration_key=integration.key,
        auth_option_key=ctx.auth.key,
        connection_id=connection.id,
    )
    return connection
