"""The hosted connect page: where a customer connects an external app."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.connect_pages import coerce_inputs, error_page, form_fields, result, templates
from api.connect_visit import ConnectVisit
from api.connecting import enabled_auth_options, establish, input_problems
from api.deps import ServicesDep, SessionDep
from api.page_security import PageRoute
from api.services import Services
from connectors.runtime import OAuthGrantError
from connectors.runtime.oauth2 import authorization_url, new_code_verifier
from connectors.spec import AuthOption, OAuth1Option, OAuth2ClientCredentialsOption, OAuth2Option
from core.errors import OsmoError
from core.stores.connect_sessions import consume_session, release_session
from core.stores.oauth_states import issue_state, update_state_secret

router = APIRouter(tags=["connect"], route_class=PageRoute)


def _form(
    request: Request,
    visit: ConnectVisit,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "connect_form.html",
        {
            "connector": visit.connector,
            "integration": visit.integration,
            "option": visit.option,
            "link": visit.link,
            "fields": form_fields(visit.option, values or {}, errors or {}),
            "error": error,
            "action": "/connect",
        },
        status_code=status_code,
    )


def _needs_form(option: AuthOption) -> bool:
    has_fields = bool((option.input_schema or {}).get("properties"))
    return has_fields or not isinstance(option, OAuth2Option | OAuth1Option)


async def _visit(
    request: Request,
    services: Services,
    session: Session,
    params: dict[str, str],
    need_option: bool,
) -> ConnectVisit:
    """The visit, checked in a worker thread (it reads the database), its transaction ended
    so no pooled connection is held while the page awaits the provider."""

    def checked() -> ConnectVisit:
        try:
            return ConnectVisit(request, services, session, params, need_option=need_option)
        finally:
            session.commit()

    return await run_in_threadpool(checked)


@router.get("/connect", include_in_schema=True, summary="Hosted connect page")
async def connect_page(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    try:
        visit = await _visit(request, services, session, dict(request.query_params), True)
        options = enabled_auth_options(visit.connector, visit.integration)
        if not visit.option_chosen and len(options) > 1:
            choices = [
                {
                    "key": o.key,
                    "name": o.name or o.key,
                    "url": f"/connect?{urlencode({**visit.link, 'authOptionKey': o.key})}",
                }
                for o in options
            ]
            return templates.TemplateResponse(
                request, "choose.html", {"connector": visit.connector, "options": choices}
            )
        if _needs_form(visit.option):
            return _form(request, visit)
        return await _start_redirect(services, session, visit, {})
    except OsmoError as exc:
        return error_page(request, exc.message, exc.key, exc.status)


@router.post("/connect", include_in_schema=False)
async def submit_connect(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        visit = await _visit(request, services, session, form, False)
    except OsmoError as exc:
        return error_page(request, exc.message, exc.key, exc.status)
    inputs = coerce_inputs(visit.option, form)
    problems = input_problems(visit.option, inputs)
    if problems:
        errors = {p["path"]: p["message"] for p in problems}
        return _form(request, visit, inputs, errors, "Please correct the fields below.", 422)
    if isinstance(visit.option, OAuth2Option | OAuth1Option):
        try:
            return await _start_redirect(services, session, visit, inputs)
        except (OAuthGrantError, OsmoError) as exc:
            return _form(request, visit, inputs, error=_refusal(exc), status_code=400)
    # Claimed before connecting so two submissions cannot both use one session; given back
    # when the app refuses the credentials, since the customer may correct them.
    claimed = visit.connect_session
    if claimed is not None and not await run_in_threadpool(consume_session, session, claimed.id):
        return error_page(
            request, "This connect link was already used.", "connect_session_used", 410
        )
    try:
        ctx = visit.context(services, inputs)
        if isinstance(visit.option, OAuth2ClientCredentialsOption):
            token = await services.runtime.grants.client_credentials(ctx, visit.option)
            ctx.credentials, ctx.token_expires_at = token.credentials, token.expires_at
        connection = await establish(
            services,
            session,
            ctx,
            visit.integration,
            connection_id=visit.connection_id,
            reuse_existing=not visit.allow_multiple,
        )
    except (OAuthGrantError, OsmoError) as exc:
        if claimed is not None:
            await run_in_threadpool(release_session, session, claimed.id)
        return _form(request, visit, inputs, error=_refusal(exc), status_code=400)
    return result(
        request,
        success=True,
        message=f"{visit.connector.name} is connected.",
        redirect_uri=visit.redirect_uri,
        connection_id=connection.id,
    )


def _refusal(exc: OAuthGrantError | OsmoError) -> str:
    if isinstance(exc, OAuthGrantError):
        return f"The app refused the credentials: {exc}"
    return exc.message


async def _start_redirect(
    services: Services, session: Session, visit: ConnectVisit, inputs: dict[str, Any]
) -> Response:
    """Sends the browser to the provider with a signed single-use state (and PKCE)."""
    settings = services.settings
    callback = f"{settings.public_url.rstrip('/')}/oauth/callback"
    verifier = new_code_verifier()
    state_id, state = await run_in_threadpool(
        partial(
            issue_state,
            session,
            services.encryptor,
            settings.workspace_secret,
            ttl_seconds=settings.state_ttl_seconds,
            secret={"verifier": verifier, "inputs": inputs, "multiple": visit.allow_multiple},
            customer_id=visit.customer_id,
            integration_id=visit.integration.id,
            connection_id=visit.connection_id,
            auth_option_key=visit.option.key,
            redirect_uri=visit.redirect_uri,
            browser_hash=visit.browser,
            connect_session_id=visit.connect_session.id if visit.connect_session else None,
        )
    )
    ctx = visit.context(services, inputs)
    if isinstance(visit.option, OAuth1Option):
        flow = services.runtime.oauth1
        token, secret = await flow.request_token(
            ctx, visit.option, f"{callback}?{urlencode({'state': state})}"
        )
        await run_in_threadpool(
            update_state_secret,
            session,
            services.encryptor,
            state_id,
            {
                "inputs": inputs,
                "multiple": visit.allow_multiple,
                "oauth_token": token,
                "oauth_token_secret": secret,
            },
        )
        return RedirectResponse(flow.authorize_url(ctx, visit.option, token), status_code=303)
    assert isinstance(visit.option, OAuth2Option)
    url = authorization_url(ctx, visit.option, callback, state, verifier)
    return RedirectResponse(url, status_code=303)
