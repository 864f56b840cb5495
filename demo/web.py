"""Small helpers shared by the fake vendor apps (HTML pages, URLs, auth parsing, logging)."""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import html
import json
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""


def new_token(prefix: str, nbytes: int = 24) -> str:
    """Return an opaque random token such as ``crm_at_Xk3...``.

    Args:
        prefix: Human-readable prefix that makes tokens easy to tell apart in logs.
        nbytes: Amount of randomness.

    Returns:
        The token string.
    """
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def same(a: str, b: str) -> bool:
    """Compare two secrets in constant time (works for non-ASCII input too).

    Args:
        a: First value.
        b: Second value.

    Returns:
        Whether they are equal.
    """
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def add_query(url: str, params: Mapping[str, str | None]) -> str:
    """Append query parameters to ``url``, preserving any query it already has.

    Args:
        url: Absolute URL (e.g. a registered redirect URI, which may carry a query).
        params: Parameters to add; ``None`` values are skipped.

    Returns:
        The new URL.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit(parts._replace(query=urlencode(query)))


def base_url(request: Request) -> str:
    """Return the externally visible base URL of ``request`` without a trailing slash.

    Args:
        request: The incoming request.

    Returns:
        e.g. ``http://127.0.0.1:53121`` (served) or ``http://crm.test`` (ASGI transport).
    """
    return str(request.base_url).rstrip("/")


def iso(ts: float) -> str:
    """Format a UNIX timestamp the way HubSpot/Zendesk do (UTC, ``Z`` suffix).

    Args:
        ts: Seconds since the epoch.

    Returns:
        e.g. ``2024-01-01T00:00:00.000Z``.
    """
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """Decode an ``Authorization: Basic ...`` header.

    Args:
        header: The raw header value, or ``None``.

    Returns:
        ``(username, password)`` or ``None`` when absent/not Basic/malformed. The payload
        is decoded as UTF-8, falling back to Latin-1. Per RFC 6749 §2.3.1 OAuth clients
        should form-urlencode id and secret first; callers decide whether to unquote.
    """
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True)
    except binascii.Error:
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return username, password


async def record_request(request: Request, log: list[dict[str, Any]]) -> dict[str, Any]:
    """Append a description of ``request`` to ``log`` and return the entry.

    The entry has ``method``, ``path``, ``query`` (dict), ``authorization`` (raw header or
    ``None``), ``headers`` (dict), ``json`` (parsed body or ``None``), ``time`` and
    ``status`` (``None`` until the caller fills it in).

    Args:
        request: The incoming request (its body is read and cached by Starlette).
        log: The list to append to.

    Returns:
        The appended entry.
    """
    body = await request.body()
    parsed: Any = None
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "authorization": request.headers.get("authorization"),
        "headers": dict(request.headers),
        "json": parsed,
        "time": time.time(),
        "status": None,
    }
    log.append(entry)
    return entry


def html_page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """Render a minimal HTML page.

    Args:
        title: Page title (escaped here).
        body: Inner HTML (must already be escaped).
        status_code: HTTP status.

    Returns:
        The response.
    """
    page = _PAGE.format(title=html.escape(title), body=body)
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})


def error_page(message: str, status_code: int = 400) -> HTMLResponse:
    """Render the vendor's HTML error page (used instead of redirecting to an untrusted URI).

    Args:
        message: Human-readable error (escaped here).
        status_code: HTTP status.

    Returns:
        The response.
    """
    body = f'<p id="error" role="alert">{html.escape(message)}</p>'
    return html_page("Authorization error", body, status_code)


def login_page(
    *,
    app_name: str,
    action: str,
    hidden: Mapping[str, str],
    prompt: str,
    error: str | None = None,
    username: str = "",
) -> HTMLResponse:
    """Render the login-and-consent form shared by the OAuth fakes.

    The form has inputs ``username``/``password`` (both ``name`` and ``id``), buttons
    ``#approve`` and ``#deny`` (``name=action``), the flow parameters as hidden inputs
    and, after a failed login, an ``#error`` message.

    Args:
        app_name: Vendor name shown in the heading.
        action: Form action (path; resolved by the browser against the page URL).
        hidden: Hidden inputs carrying the protocol parameters.
        prompt: Consent text (escaped here).
        error: Optional error message.
        username: Value to pre-fill the username field with.

    Returns:
        The response (200).
    """
    esc = html.escape
    hidden_html = "\n".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in hidden.items()
    )
    error_html = f'<p id="error" role="alert">{esc(error)}</p>\n' if error else ""
    body = f"""{error_html}<p id="prompt">{esc(prompt)}</p>
<form method="post" action="{esc(action)}" id="login-form">
{hidden_html}
<label for="username">Username</label>
<input type="text" name="username" id="username" value="{esc(username)}" autocomplete="username">
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password">
<button type="submit" id="approve" name="action" value="approve">Allow access</button>
<button type="submit" id="deny" name="action" value="deny">Deny</button>
</form>"""
    return html_page(f"Sign in to {app_name}", body)


def run_standalone(
    app: Any,
    *,
    name: str,
    port: int,
    notes: str,
    argv: list[str] | None,
    data_file: Callable[[Path], None] | None = None,
) -> None:
    """Serve a fake with uvicorn from the command line (``--host``, ``--port``).

    Args:
        app: The fake's ASGI app (already seeded with demo credentials).
        name: Human-readable name for the banner.
        port: Default port.
        notes: Demo credentials etc., printed under the URL.
        argv: Command-line arguments (defaults to ``sys.argv``).
        data_file: Called with the path given as ``--data-file`` (before serving), for fakes
            that keep their state in a file; without it the option is not offered.
    """
    import uvicorn

    parser = argparse.ArgumentParser(description=f"Run the {name} standalone.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    if data_file is not None:
        parser.add_argument(
            "--data-file", type=Path, help="keep the state in this JSON file across restarts"
        )
    args = parser.parse_args(argv)
    if data_file is not None and args.data_file is not None:
        data_file(args.data_file)
        notes += f"; state kept in {args.data_file}"
    print(f"{name} listening on http://{args.host}:{args.port}", flush=True)
    print(f"  {notes}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
