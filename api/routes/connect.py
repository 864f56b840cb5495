"""The hosted connect page: where a customer connects an external app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.connect_pages import (
    coerce_inputs,
    error_page,
    form_fields,
    redirect_allowed,
    result,
    templates,
)
from api.connecting import enabled_auth_options, establish, input_problems, new_context, resolve
from api.deps import Caller, ServicesDep, SessionDep, authenticate, get_integration
from api.services import Services
from connectors.runtime import ConnectionContext, ConnectorError, OAuthGrantError
from connectors.runtime.oauth2 import authorization_url, new_code_verifier
from connectors.spec import AuthOption, OAuth1Option, OAuth2ClientCredentialsOption, OAuth2Option
from core.errors import OsmoError
from core.models import Connection, Integration
from core.stores.oauth_states import issue_state, update_state_secret

router = APIRouter(tags=["connect"])


class ConnectRequest:
    """The parameters of one visit to the connect page, checked."""

    def __init__(
        self, services: Services, session: Session, params: dict[str, str], *, need_option: bool
    ) -> None:
        token = params.get("token") or ""
        if not token:
            raise OsmoError(
                "auth", "not_authenticated", "The connect link has no token", status=401
            )
        self.token = token
        self.caller: Caller = authenticate(token, services, session)
        if self.caller.customer is None:
            raise OsmoError(
                "auth", "forbidden", "The connect page needs a customer token", status=403
            )
        self.integration: Integration = get_integration(session, params.get("integrationKey", ""))
        self.connection_id = params.get("connectionId") or None
        if self.connection_id:
            connection = session.get(Connection, self.connection_id)
            if (
                connection is None
                or connection.customer_id != self.caller.customer_id
                or connection.integration_id != self.integration.id
            ):
                raise OsmoError(
                    "not_found", "connection_not_found", "Connection not found", status=404
                )
        self.allow_multiple = params.get("allowMultipleConnections") in ("true", "1")
        self.redirect_uri = params.get("redirectUri") or None
        if not redirect_allowed(services.settings, self.redirect_uri):
            raise OsmoError(
                "bad_request", "redirect_uri_not_allowed", "redirectUri is not an allowed origin"
            )
        option_key = params.get("authOptionKey") or None
        self.connector, self.option = resolve(services, self.integration, option_key)
        self.option_chosen = option_key is not None or not need_option

    @property
    def customer_id(self) -> str:
        assert self.caller.customer_id is not None
        return self.caller.customer_id

    def context(self, services: Services, inputs: dict[str, Any]) -> ConnectionContext:
        return new_context(
            services, self.integration, self.connector, self.option, self.customer_id, inputs
        )

    def query(self, **extra: str) -> str:
        params = {"integrationKey": self.integration.key, "token": self.token, **extra}
        if self.connection_id:
            params["connectionId"] = self.connection_id
        if self.redirect_uri:
            params["redirectUri"] = self.redirect_uri
        if self.allow_multiple:
            params["allowMultipleConnections"] = "true"
        return urlencode(params)


def _form(
    request: Request,
    visit: ConnectRequest,
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
            "token": visit.token,
            "connection_id": visit.connection_id,
            "redirect_uri": visit.redirect_uri,
            "allow_multiple": visit.allow_multiple,
            "fields": form_fields(visit.option, values or {}, errors or {}),
            "error": error,
            "action": "/connect",
        },
        status_code=status_code,
    )


def _needs_form(option: AuthOption) -> bool:
    has_fields = bool((option.input_schema or {}).get("properties"))
    return has_fields or not isinstance(option, OAuth2Option | OAuth1Option)


@router.get("/connect", include_in_schema=True, summary="Hosted connect page")
async def connect_page(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    try:
        visit = ConnectRequest(services, session, dict(request.query_params), need_option=True)
        options = enabled_auth_options(visit.connector, visit.integration)
        if not visit.option_chosen and len(options) > 1:
            choices = [
                {
                    "key": o.key,
                    "name": o.name or o.key,
                    "url": f"/connect?{visit.query(authOptionKey=o.key)}",
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
        visit = ConnectRequest(services, session, form, need_option=False)
    except OsmoError as exc:
        return error_page(request, exc.message, exc.key, exc.status)
    inputs = coerce_inputs(visit.option, form)
    problems = input_problems(visit.option, inputs)
    if problems:
        errors = {p["path"]: p["message"] for p in problems}
        return _form(request, visit, inputs, errors, "Please correct the fields below.", 422)
    try:
        if isinstance(visit.option, OAuth2Option | OAuth1Option):
            return await _start_redirect(services, session, visit, inputs)
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
    except OAuthGrantError as exc:
        message = f"The app refused the credentials: {exc}"
        return _form(request, visit, inputs, error=message, status_code=400)
    except (OsmoError, ConnectorError) as exc:
        return _form(request, visit, inputs, error=exc.message, status_code=400)
    return result(
        request,
        success=True,
        message=f"{visit.connector.name} is connected.",
        redirect_uri=visit.redirect_uri,
        connection_id=connection.id,
    )


async def _start_redirect(
    services: Services, session: Session, visit: ConnectRequest, inputs: dict[str, Any]
) -> Response:
    """Sends the browser to the provider with a signed single-use state (and PKCE)."""
    settings = services.settings
    callback = f"{settings.public_url.rstrip('/')}/oauth/callback"
    verifier = new_code_verifier()
    state_id, state = issue_state(
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
    )
    ctx = visit.context(services, inputs)
    if isinstance(visit.option, OAuth1Option):
        flow = services.runtime.oauth1
        token, secret = await flow.request_token(
            ctx, visit.option, f"{callback}?{urlencode({'state': state})}"
        )
        update_state_secret(
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
