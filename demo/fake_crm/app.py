"""Fake CRM: an OAuth 2.0 authorization server plus a HubSpot-shaped REST API.

Run standalone with ``python -m demo.fake_crm --port 8001`` (demo client ``osmo-demo`` /
``osmo-demo-secret`` accepting any redirect URI, user ``demo`` / ``demo``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from demo.fake_crm import api as crm_api
from demo.fake_crm import oauth as crm_oauth
from demo.fake_crm import webhooks as crm_webhooks
from demo.fake_crm.persist import persist
from demo.fake_crm.state import (
    AccessToken,
    AuthCode,
    CRMUser,
    OAuthClient,
    RefreshToken,
)
from demo.web import iso, new_token, run_standalone

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Linus", "Radia"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Torvalds"]
_SEED_EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z

__all__ = ["AccessToken", "AuthCode", "CRMUser", "FakeCRM", "OAuthClient", "RefreshToken"]


class FakeCRM:
    """In-memory OAuth 2.0 provider + contacts API shaped after HubSpot/Salesforce.

    All state is plain public attributes so tests can inspect and tweak it. The object is
    thread-safe enough to be driven from a test thread while a test server (`tests.fakes.serve`)
    runs the app in a background thread.

    Attributes:
        app: The FastAPI application (mount with ``httpx.ASGITransport`` or ``serve``).
        token_requests: One dict per token-endpoint call (``grant_type``, ``client_id``,
            ``auth_method``, ``time``, ``status``).
        authorize_requests: Query parameters of every ``GET /oauth/authorize``.
        api_requests: One dict per ``/api/...`` call, rejected ones included (``method``,
            ``path``, ``query``, ``authorization``, ``headers``, ``json``, ``time``, ``status``).
        revoked_tokens: Tokens submitted to ``POST /oauth/revoke``, in order.
        contacts: Contact records by id (HubSpot shape).
        webhooks: Webhook subscriptions and the deliveries sent (demo/fake_crm/webhooks.py).
        clients, users, codes, access_tokens, refresh_tokens: Protocol state by key.
    """

    def __init__(
        self,
        *,
        access_token_ttl: int = 3600,
        rotate_refresh_tokens: bool = True,
        omit_refresh_token_on_refresh: bool = False,
        token_latency: float = 0.0,
        code_ttl: int = 60,
        seed_contacts: int = 25,
        page_size: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the fake.

        Args:
            access_token_ttl: ``expires_in`` of issued access tokens, in seconds.
            rotate_refresh_tokens: Issue a new refresh token on every refresh and invalidate
                the old one.
            omit_refresh_token_on_refresh: Leave ``refresh_token`` out of refresh responses
                (the old one stays valid); takes precedence over rotation.
            token_latency: Seconds to ``await asyncio.sleep`` in the token endpoint before
                doing anything, so concurrent refreshes race observably.
            code_ttl: Authorization code lifetime in seconds.
            seed_contacts: Number of deterministic contacts to create.
            page_size: Contacts per list page whatever ``limit`` asks (some APIs fix their
                page size); ``None`` honours ``limit``.
            clock: Time source (seconds since the epoch); inject to control expiry.
        """
        self.access_token_ttl = access_token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.omit_refresh_token_on_refresh = omit_refresh_token_on_refresh
        self.token_latency = token_latency
        self.code_ttl = code_ttl
        self.page_size = page_size
        self.clock = clock
        self.lock = threading.RLock()

        self.clients: dict[str, OAuthClient] = {}
        self.users: dict[str, CRMUser] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.authorize_requests: list[dict[str, str]] = []
        self.api_requests: list[dict[str, Any]] = []
        self.revoked_tokens: list[str] = []
        self.contacts: dict[str, dict[str, Any]] = {}

        self.rate_limit_remaining = 0
        self.rate_limit_retry_after = 1
        self.pending_token_error: str | None = None
        self.next_contact_id = 1001
        self._seed(seed_contacts)

        self.webhooks = crm_webhooks.Webhooks(self)
        self.app = FastAPI(title="Fake CRM", docs_url=None, redoc_url=None, openapi_url=None)
        crm_oauth.install(self.app, self)
        crm_api.install(self.app, self)
        crm_webhooks.install(self.app, self)

    # ----------------------------------------------------------------- test controls

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> OAuthClient:
        """Register (or replace) an OAuth client.

        Args:
            client_id: Client identifier.
            client_secret: Client secret (confidential clients only).
            redirect_uris: Exact allowed redirect URIs; ``None`` allows any.

        Returns:
            The stored client.
        """
        with self.lock:
            client = OAuthClient(client_id, client_secret, redirect_uris)
            self.clients[client_id] = client
            return client

    def add_user(self, username: str, password: str, email: str | None = None) -> CRMUser:
        """Add a user who can log in on the authorize page.

        Args:
            username: Login name.
            password: Password.
            email: Email; defaults to ``<username>@example.com``.

        Returns:
            The stored user (``id`` is what ``/api/v1/me`` reports).
        """
        with self.lock:
            user = CRMUser(
                id=str(501 + len(self.users)),
                username=username,
                password=password,
                email=email or f"{username}@example.com",
                name=username.title(),
            )
            self.users[username] = user
            return user

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired."""
        with self.lock:
            past = self.clock() - 1
            for token in self.access_tokens.values():
                token.expires_at = min(token.expires_at, past)

    def revoke_all_refresh_tokens(
        self, description: str = "The refresh token has been revoked by the user."
    ) -> None:
        """Invalidate every refresh token issued so far (user uninstalled the app, etc.).

        Args:
            description: ``error_description`` of the ``invalid_grant`` the next refresh gets.
        """
        with self.lock:
            for token in self.refresh_tokens.values():
                token.invalid_reason = token.invalid_reason or description

    def arm_rate_limit(self, count: int, retry_after: int = 1) -> None:
        """Answer the next ``count`` API calls with 429 and ``Retry-After``.

        Args:
            count: Number of API calls to reject.
            retry_after: Seconds to put in the ``Retry-After`` header.
        """
        with self.lock:
            self.rate_limit_remaining = count
            self.rate_limit_retry_after = retry_after

    def fail_next_token_exchange(self, error: str = "invalid_request") -> None:
        """Make the next token-endpoint call (any grant type) fail with ``error``.

        The call fails before anything is validated or consumed, so a retry can succeed.
        ``invalid_client`` → 401, ``server_error`` → 500, ``temporarily_unavailable`` → 503,
        anything else → 400.

        Args:
            error: The OAuth ``error`` code to return.
        """
        with self.lock:
            self.pending_token_error = error

    # ------------------------------------------------------- helpers used by the routes

    def issue_tokens(
        self,
        *,
        client_id: str,
        subject: str,
        scope: str,
        grant_id: str,
        refresh: RefreshToken | bool | None,
    ) -> dict[str, Any]:
        """Issue an access token (and maybe a refresh token) and build the token response.

        Args:
            client_id: Client the tokens belong to.
            subject: User id or ``client:<client_id>``.
            scope: Granted scope string.
            grant_id: Identifier shared by all tokens of one authorization.
            refresh: ``True`` to mint a new refresh token, an existing one to echo it back,
                ``False``/``None`` for none.

        Returns:
            The RFC 6749 §5.1 response body.
        """
        access = AccessToken(
            token=new_token("crm_at"),
            client_id=client_id,
            subject=subject,
            scope=scope,
            expires_at=self.clock() + self.access_token_ttl,
            grant_id=grant_id,
        )
        self.access_tokens[access.token] = access
        body: dict[str, Any] = {
            "access_token": access.token,
            "token_type": "bearer",
            "expires_in": self.access_token_ttl,
        }
        if refresh is True:
            refresh = RefreshToken(new_token("crm_rt"), client_id, subject, scope, grant_id)
            self.refresh_tokens[refresh.token] = refresh
        if isinstance(refresh, RefreshToken):
            body["refresh_token"] = refresh.token
        body["scope"] = scope
        return body

    def revoke_grant(self, grant_id: str, reason: str) -> None:
        """Invalidate every token of one authorization (RFC 6749 §4.1.2 / RFC 7009 §2.1).

        Args:
            grant_id: The grant to kill.
            reason: ``error_description`` for later refresh attempts.
        """
        for access in self.access_tokens.values():
            if access.grant_id == grant_id:
                access.revoked = True
        for refresh in self.refresh_tokens.values():
            if refresh.grant_id == grant_id and refresh.invalid_reason is None:
                refresh.invalid_reason = reason

    def new_contact(self, properties: dict[str, Any], ts: float | None = None) -> dict[str, Any]:
        """Create and store a contact record.

        Args:
            properties: Contact properties (values are stringified, as HubSpot does).
            ts: Creation timestamp; defaults to now.

        Returns:
            The stored record.
        """
        cid = str(self.next_contact_id)
        self.next_contact_id += 1
        stamp = iso(self.clock() if ts is None else ts)
        props = {k: (None if v is None else str(v)) for k, v in properties.items()}
        props.update(hs_object_id=cid, createdate=stamp, lastmodifieddate=stamp)
        record = {
            "id": cid,
            "properties": props,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        self.contacts[cid] = record
        return record

    def _seed(self, count: int) -> None:
        for i in range(count):
            first, last = _FIRST[i % len(_FIRST)], _LAST[i % len(_LAST)]
            props = {
                "email": f"{first.lower()}.{last.lower()}{i + 1}@example.com",
                "firstname": first,
                "lastname": last,
                "company": f"Company {i % 5 + 1}",
            }
            self.new_contact(props, ts=_SEED_EPOCH + 3600 * i)


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone with demo credentials.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv``).
    """
    fake = FakeCRM()
    fake.register_client("osmo-demo", "osmo-demo-secret")
    fake.add_user("demo", "demo")
    run_standalone(
        fake.app,
        name="fake CRM",
        port=8001,
        notes="client osmo-demo / osmo-demo-secret (any redirect URI); user demo / demo",
        argv=argv,
        data_file=lambda path: persist(fake.app, fake, path),
    )
