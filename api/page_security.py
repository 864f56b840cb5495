"""What every hosted page (connect, choose, forms, results) sends besides its HTML.

- Security headers: a Content-Security-Policy that allows only the page's own nonce-tagged
  `<style>` and `<script>`, `frame-ancestors` limited to the product's allowed origins,
  `nosniff`, and `Referrer-Policy: no-referrer` so the connect session token in the URL never
  leaks to the provider or the product in a `Referer`.
- The connect cookie: a random nonce identifying the browser, whose hash binds connect
  sessions and OAuth `state` to the browser that started the flow.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from core.settings import Settings
from core.stores.connect_sessions import hash_token

BROWSER_COOKIE = "osmo_connect"
_MAX_COOKIE_LENGTH = 128


def frame_ancestors(settings: Settings) -> str:
    """The CSP `frame-ancestors` source list: the allowed redirect origins (`*` = any)."""
    origins = settings.redirect_origins
    if "*" in origins:
        return "*"
    return " ".join(origins) or "'none'"


def content_security_policy(settings: Settings, nonce: str) -> str:
    # No `form-action`: browsers apply it to the redirects after a form post too, and the
    # connect form's answer redirects to the provider or to the product, both other origins.
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            f"style-src 'nonce-{nonce}'",
            "img-src 'self' data:",
            "base-uri 'none'",
            f"frame-ancestors {frame_ancestors(settings)}",
        ]
    )


def browser_hash(request: Request) -> str:
    """The hash of this browser's connect cookie, minting a new cookie when it has none.

    The new cookie is set on the response by `PageRoute`.
    """
    nonce = getattr(request.state, "browser_nonce", None) or _cookie(request)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        request.state.new_browser_nonce = nonce
    request.state.browser_nonce = nonce
    return hash_token(nonce)


def existing_browser_hash(request: Request) -> str | None:
    """The hash of this browser's connect cookie, or None when it sent none."""
    nonce = _cookie(request)
    return hash_token(nonce) if nonce else None


def _cookie(request: Request) -> str | None:
    value = request.cookies.get(BROWSER_COOKIE)
    if not value or len(value) > _MAX_COOKIE_LENGTH:
        return None
    return value


def secure_page(request: Request, response: Response, settings: Settings, nonce: str) -> None:
    """Adds the security headers, and the connect cookie when this request minted one."""
    response.headers["Content-Security-Policy"] = content_security_policy(settings, nonce)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    new_nonce = getattr(request.state, "new_browser_nonce", None)
    if new_nonce:
        response.set_cookie(
            BROWSER_COOKIE,
            new_nonce,
            httponly=True,
            samesite="lax",
            secure=settings.public_url.startswith("https:") or request.url.scheme == "https",
            path="/",
        )


class PageRoute(APIRoute):
    """A route that serves a hosted page: gives it a CSP nonce and secures its response.

    Templates read the nonce as `request.state.csp_nonce`.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            nonce = secrets.token_urlsafe(16)
            request.state.csp_nonce = nonce
            response = await handler(request)
            secure_page(request, response, request.app.state.services.settings, nonce)
            return response

        return page_handler
