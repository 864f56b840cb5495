"""One visit to the connect page: who it is for and what it may do, from its link.

A link is either a connect session (`?session=<token>`, created by `POST /connect-sessions`)
or, in `env=dev` only, the legacy `?token=<customer JWT>&integrationKey=…` form, which puts an
API token in the URL and is refused elsewhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from api.connect_pages import redirect_allowed
from api.connecting import new_context, resolve
from api.deps import authenticate, get_integration
from api.page_security import browser_hash
from api.services import Services
from connectors.runtime import ConnectionContext
from core.errors import OsmoError
from core.models import Connection, ConnectSession, Integration
from core.stores.connect_sessions import open_session


class ConnectVisit:
    """The parameters of one visit to the connect page, checked.

    Attributes:
        link: The parameters that identify the link, carried by the page's own links and
            forms (`session`, or in dev the token and its parameters).
        connect_session: The connect session, when the link is one.
        browser: Hash of the browser's connect cookie (minted on first visit).
    """

    def __init__(
        self,
        request: Request,
        services: Services,
        session: Session,
        params: dict[str, str],
        *,
        need_option: bool,
    ) -> None:
        self.browser = browser_hash(request)
        self.connect_session: ConnectSession | None = None
        session_token = params.get("session") or ""
        if session_token:
            option_key = self._from_session(session, session_token, params)
        elif params.get("token"):
            option_key = self._from_token(services, session, params)
        else:
            raise OsmoError(
                "auth",
                "not_authenticated",
                "The connect link has no session; create one with POST /connect-sessions.",
                status=401,
            )
        self._check_connection(session)
        if not redirect_allowed(services.settings, self.redirect_uri):
            raise OsmoError(
                "bad_request", "redirect_uri_not_allowed", "redirectUri is not an allowed origin"
            )
        self.connector, self.option = resolve(services, self.integration, option_key)
        self.option_chosen = option_key is not None or not need_option

    def _from_session(self, session: Session, token: str, params: dict[str, str]) -> str | None:
        # Everything comes from the session; only the auth option may be picked on the page
        # (from those the integration enables) when the session left it open.
        row = open_session(session, token, self.browser)
        integration = session.get(Integration, row.integration_id)
        if integration is None:
            raise OsmoError(
                "not_found",
                "integration_not_found",
                "The integration no longer exists.",
                status=404,
            )
        self.connect_session = row
        self.link = {"session": token}
        self.customer_id = row.customer_id
        self.integration = integration
        self.connection_id = row.connection_id
        self.redirect_uri = row.redirect_uri
        self.allow_multiple = row.allow_multiple
        return row.auth_option_key or params.get("authOptionKey") or None

    def _from_token(
        self, services: Services, session: Session, params: dict[str, str]
    ) -> str | None:
        if services.settings.env != "dev":
            raise OsmoError(
                "auth",
                "token_in_url_not_allowed",
                "Connect links carrying an API token are accepted only in dev; create a "
                "connect session with POST /connect-sessions and open its url.",
                status=403,
            )
        caller = authenticate(params["token"], services, session)
        if caller.customer_id is None:
            raise OsmoError(
                "auth", "forbidden", "The connect page needs a customer token", status=403
            )
        self.customer_id = caller.customer_id
        self.integration = get_integration(session, params.get("integrationKey", ""))
        self.connection_id = params.get("connectionId") or None
        self.redirect_uri = params.get("redirectUri") or None
        self.allow_multiple = params.get("allowMultipleConnections") in ("true", "1")
        self.link = {"integrationKey": self.integration.key, "token": params["token"]}
        if self.connection_id:
            self.link["connectionId"] = self.connection_id
        if self.redirect_uri:
            self.link["redirectUri"] = self.redirect_uri
        if self.allow_multiple:
            self.link["allowMultipleConnections"] = "true"
        return params.get("authOptionKey") or None

    def _check_connection(self, session: Session) -> None:
        if not self.connection_id:
            return
        connection = session.get(Connection, self.connection_id)
        if (
            connection is None
            or connection.customer_id != self.customer_id
            or connection.integration_id != self.integration.id
        ):
            raise OsmoError("not_found", "connection_not_found", "Connection not found", status=404)

    def context(self, services: Services, inputs: dict[str, Any]) -> ConnectionContext:
        return new_context(
            services, self.integration, self.connector, self.option, self.customer_id, inputs
        )
