"""Where providers send the customer back: finish the OAuth dance and store the connection."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.connect_pages import error_page, result
from api.connecting import establish, new_context, record_attempt, resolve
from api.deps import ServicesDep, SessionDep
from api.page_security import PageRoute, existing_browser_hash
from connectors.runtime import ConnectorError, OAuthGrantError
from connectors.runtime.oauth2 import check_issuer
from connectors.spec import OAuth1Option, OAuth2Option
from core.errors import OsmoError
from core.models import Integration
from core.stores.connect_sessions import consume_session
from core.stores.oauth_states import PendingAuth, StateError, consume_state

router = APIRouter(tags=["connect"], route_class=PageRoute)


@router.get("/oauth/callback", include_in_schema=False)
async def oauth_callback(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    params = request.query_params
    settings = services.settings

    def pending_and_integration() -> tuple[PendingAuth, Integration | None]:
        # In a worker thread: the state is consumed (a write) and the integration read.
        pending = consume_state(
            session,
            services.encryptor,
            settings.workspace_secret,
            params.get("state", ""),
            existing_browser_hash(request),
        )
        integration = session.get(Integration, pending.state.integration_id)
        session.commit()  # no pooled connection held while the provider is called
        return pending, integration

    try:
        pending, integration = await run_in_threadpool(pending_and_integration)
    except StateError as exc:
        return error_page(request, str(exc), exc.key)
    state = pending.state
    if integration is None:
        return error_page(request, "The integration no longer exists.", "integration_not_found")

    async def fail(key: str, message: str) -> Response:
        await run_in_threadpool(
            partial(
                record_attempt,
                session,
                customer_id=state.customer_id,
                integration_key=integration.key,
                auth_option_key=state.auth_option_key,
                connection_id=state.connection_id,
                error=OsmoError("connection", key, message),
            )
        )
        return result(
            request,
            success=False,
            message=message,
            redirect_uri=state.redirect_uri,
            error_key=key,
            status_code=400,
        )

    # The provider's answer ends the attempt either way, so the connect session is used up
    # here; of two flows started from one session only the first to return may finish.
    if state.connect_session_id and not await run_in_threadpool(
        consume_session, session, state.connect_session_id
    ):
        return await fail("connect_session_used", "This connect link was already used.")
    connector, option = resolve(services, integration, state.auth_option_key)
    inputs = pending.secret.get("inputs", {})
    ctx = new_context(services, integration, connector, option, state.customer_id, inputs)
    if isinstance(option, OAuth2Option):
        # RFC 9207 asks for `iss` to be checked before anything else in the response,
        # error responses included.
        try:
            check_issuer(ctx, option, params.get("iss"))
        except OsmoError as exc:
            return await fail(exc.key, exc.message)
    if params.get("error"):
        description = params.get("error_description") or "The app did not grant access."
        return await fail(params["error"], f"{params['error']}: {description}")
    try:
        if isinstance(option, OAuth1Option):
            ctx.credentials = await services.runtime.oauth1.access_token(
                ctx,
                option,
                params.get("oauth_token") or pending.secret["oauth_token"],
                pending.secret["oauth_token_secret"],
                params.get("oauth_verifier", ""),
            )
        else:
            assert isinstance(option, OAuth2Option)
            if not params.get("code"):
                return await fail("missing_code", "The app returned no authorization code.")
            token = await services.runtime.grants.exchange_code(
                ctx,
                option,
                params["code"],
                f"{settings.public_url.rstrip('/')}/oauth/callback",
                pending.secret.get("verifier"),
            )
            ctx.credentials, ctx.token_expires_at = token.credentials, token.expires_at
    except OAuthGrantError as exc:
        return await fail("token_exchange_failed", f"The app refused the authorization: {exc}")
    except ConnectorError as exc:
        return await fail(exc.key, exc.message)

    try:
        connection = await establish(
            services,
            session,
            ctx,
            integration,
            connection_id=state.connection_id,
            reuse_existing=not pending.secret.get("multiple", False),
        )
    except OsmoError as exc:
        return result(
            request,
            success=False,
            message=exc.message,
            redirect_uri=state.redirect_uri,
            error_key=exc.key,
            status_code=400,
        )
    return result(
        request,
        success=True,
        message=f"{connector.name} is connected.",
        redirect_uri=state.redirect_uri,
        connection_id=connection.id,
    )
