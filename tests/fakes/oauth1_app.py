"""Fake OAuth 1.0a provider shaped after Trello / Xero (OAuth 1) with a tiny member API.

Run standalone with ``python -m tests.fakes.oauth1_app --port 8003`` (consumer ``osmo-demo`` /
``osmo-demo-secret``, user ``demo`` / ``demo``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from demo.web import (
    add_query,
    error_page,
    html_page,
    login_page,
    new_token,
    record_request,
    run_standalone,
    same,
)
from tests.fakes._oauth1_core import (
    OAuth1AccessToken,
    OAuth1Problem,
    RequestToken,
    SignedRequest,
    verify,
)

_FORM = "application/x-www-form-urlencoded"

__all__ = ["FakeOAuth1App", "OAuth1AccessToken", "RequestToken"]


class FakeOAuth1App:
    """In-memory OAuth 1.0a provider (HMAC-SHA1, properly verified) plus ``/api/1/members/me``.

    Attributes:
        app: The FastAPI application.
        consumers: Consumer secrets by key.
        users: User records by username.
        request_tokens, access_tokens: Credentials by token.
        api_requests: One dict per ``/api/...`` call, rejected ones included.
        oauth_requests: ``{"path", "status", "problem"}`` per ``/oauth/*_token`` call.
    """

    def __init__(
        self,
        *,
        timestamp_tolerance: int = 300,
        request_token_ttl: int = 600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the fake.

        Args:
            timestamp_tolerance: Accepted ``oauth_timestamp`` skew in seconds.
            request_token_ttl: Lifetime of request tokens in seconds.
            clock: Time source (seconds since the epoch).
        """
        self.timestamp_tolerance = timestamp_tolerance
        self.request_token_ttl = request_token_ttl
        self.clock = clock
        self.lock = threading.RLock()
        self.consumers: dict[str, str] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, OAuth1AccessToken] = {}
        self.api_requests: list[dict[str, Any]] = []
        self.oauth_requests: list[dict[str, Any]] = []
        self._nonces: set[tuple[str, str | None, str, str]] = set()
        self.app = FastAPI(title="Fake OAuth1 app", docs_url=None, redoc_url=None, openapi_url=None)
        self._install()

    def register_consumer(self, key: str, secret: str) -> None:
        """Register (or replace) a consumer.

        Args:
            key: Consumer key.
            secret: Consumer secret.
        """
        with self.lock:
            self.consumers[key] = secret

    def add_user(self, username: str, password: str) -> dict[str, Any]:
        """Add a user who can log in on the authorize page.

        Args:
            username: Login name.
            password: Password.

        Returns:
            The stored user record (what ``/api/1/members/me`` returns, minus the password).
        """
        with self.lock:
            user = {
                "id": f"5f{len(self.users) + 1:022x}",
                "username": username,
                "fullName": username.title(),
                "email": f"{username}@example.com",
                "password": password,
            }
            self.users[username] = user
            return user

    # ------------------------------------------------------------------ internals

    async def _verify(
        self, request: Request, token_secret: Callable[[str, str | None], str | None]
    ) -> SignedRequest:
        def seen(consumer: str, token: str | None, ts: str, nonce: str) -> bool:
            key = (consumer, token, ts, nonce)
            if key in self._nonces:
                return True
            self._nonces.add(key)
            return False

        return await verify(
            request,
            consumer_secret=self.consumers.get,
            token_secret=token_secret,
            seen_nonce=seen,
            now=self.clock(),
            tolerance=self.timestamp_tolerance,
        )

    def _live_request_token(self, token: str | None) -> RequestToken | None:
        rt = self.request_tokens.get(token or "")
        if rt is None or rt.used or rt.expires_at <= self.clock():
            return None
        return rt

    def _install(self) -> None:
        app = self.app

        @app.exception_handler(OAuth1Problem)
        async def problem(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, OAuth1Problem)
            return exc.response()

        @app.middleware("http")
        async def log_requests(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            path = request.url.path
            entry: dict[str, Any] | None = None
            if path.startswith("/api/"):
                entry = await record_request(request, self.api_requests)
            elif path in ("/oauth/request_token", "/oauth/access_token"):
                entry = {"path": path, "time": self.clock(), "status": None}
                self.oauth_requests.append(entry)
            response = await call_next(request)
            if entry is not None:
                entry["status"] = response.status_code
            return response

        @app.post("/oauth/request_token")
        async def request_token(request: Request) -> Response:
            signed = await self._verify(request, lambda _consumer, tok: "" if tok is None else None)
            callback = signed.params.get("oauth_callback")
            if not callback:
                raise OAuth1Problem(
                    400,
                    "parameter_absent",
                    "oauth_callback is required",
                    oauth_parameters_absent="oauth_callback",
                )
            parts = urlsplit(callback)
            if callback != "oob" and (parts.scheme not in ("http", "https") or not parts.netloc):
                raise OAuth1Problem(
                    400, "parameter_rejected", "oauth_callback must be a URL or oob"
                )
            with self.lock:
                rt = RequestToken(
                    token=new_token("o1_rt"),
                    secret=new_token("o1_rts"),
                    consumer_key=signed.consumer_key,
                    callback=callback,
                    expires_at=self.clock() + self.request_token_ttl,
                )
                self.request_tokens[rt.token] = rt
            body = {
                "oauth_token": rt.token,
                "oauth_token_secret": rt.secret,
                "oauth_callback_confirmed": "true",
            }
            return Response(urlencode(body), media_type=_FORM)

        def render_login(token: str, error: str | None = None, username: str = "") -> Response:
            rt = self.request_tokens[token]
            return login_page(
                app_name="Fake OAuth1 App",
                action="/oauth/authorize",
                hidden={"oauth_token": token},
                prompt=f"{rt.consumer_key} wants to access your account.",
                error=error,
                username=username,
            )

        @app.get("/oauth/authorize")
        async def authorize_page(request: Request) -> Response:
            token = request.query_params.get("oauth_token", "")
            if self._live_request_token(token) is None:
                return error_page("Invalid or expired oauth_token.")
            return render_login(token)

        @app.post("/oauth/authorize")
        async def authorize_submit(request: Request) -> Response:
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            token = form.get("oauth_token", "")
            with self.lock:
                rt = self._live_request_token(token)
                if rt is None or rt.verifier is not None:
                    return error_page("Invalid or expired oauth_token.")
                if form.get("action") == "deny":
                    rt.used = True
                    if rt.callback == "oob":
                        return html_page("Access denied", '<p id="denied">Access denied.</p>')
                    params = {"denied": token, "oauth_problem": "user_refused"}
                    return RedirectResponse(add_query(rt.callback, params), status_code=302)
                if form.get("action") != "approve":
                    return error_page("Unknown action.")
                user = self.users.get(form.get("username", ""))
                if user is None or not same(user["password"], form.get("password", "")):
                    return render_login(
                        token, "Invalid username or password.", form.get("username", "")
                    )
                rt.user_id, rt.verifier = user["id"], new_token("o1_v", 12)
            if rt.callback == "oob":
                return html_page(
                    "Authorized", f'<p>Verifier: <code id="verifier">{rt.verifier}</code></p>'
                )
            params = {"oauth_token": token, "oauth_verifier": rt.verifier}
            return RedirectResponse(add_query(rt.callback, params), status_code=302)

        @app.post("/oauth/access_token")
        async def access_token(request: Request) -> Response:
            def secret_of(consumer: str, tok: str | None) -> str | None:
                rt = self._live_request_token(tok)
                ok = rt is not None and rt.consumer_key == consumer and rt.user_id is not None
                return rt.secret if ok and rt is not None else None

            signed = await self._verify(request, secret_of)
            verifier = signed.params.get("oauth_verifier")
            if not verifier:
                raise OAuth1Problem(
                    400,
                    "parameter_absent",
                    "oauth_verifier is required",
                    oauth_parameters_absent="oauth_verifier",
                )
            with self.lock:
                rt = self._live_request_token(signed.token)
                if rt is None:
                    raise OAuth1Problem(401, "token_used", "The request token was already used")
                if rt.verifier is None or not same(rt.verifier, verifier):
                    raise OAuth1Problem(401, "verifier_invalid", "oauth_verifier does not match")
                rt.used = True
                assert rt.user_id is not None
                at = OAuth1AccessToken(
                    new_token("o1_at"), new_token("o1_ats"), rt.consumer_key, rt.user_id
                )
                self.access_tokens[at.token] = at
            return Response(
                urlencode({"oauth_token": at.token, "oauth_token_secret": at.secret}),
                media_type=_FORM,
            )

        @app.get("/api/1/members/me")
        async def me(request: Request) -> Response:
            def secret_of(consumer: str, tok: str | None) -> str | None:
                at = self.access_tokens.get(tok or "")
                return at.secret if at is not None and at.consumer_key == consumer else None

            signed = await self._verify(request, secret_of)
            at = self.access_tokens[signed.token or ""]
            user = next(u for u in self.users.values() if u["id"] == at.user_id)
            return JSONResponse({k: v for k, v in user.items() if k != "password"})


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone with demo credentials.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv``).
    """
    fake = FakeOAuth1App()
    fake.register_consumer("osmo-demo", "osmo-demo-secret")
    fake.add_user("demo", "demo")
    run_standalone(
        fake.app,
        name="fake OAuth 1.0a app",
        port=8003,
        notes="consumer osmo-demo / osmo-demo-secret; user demo / demo",
        argv=argv,
    )


if __name__ == "__main__":
    main()
