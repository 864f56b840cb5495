"""Credential records and RFC 5849 request verification (HMAC-SHA1 only) for the OAuth1 fake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from urllib.request import parse_http_list, parse_keqv_list

from authlib.common.urls import extract_params, url_decode
from authlib.oauth1.rfc5849.signature import construct_base_string, hmac_sha1_signature
from authlib.oauth1.rfc5849.util import unescape
from starlette.requests import Request
from starlette.responses import Response

from demo.web import same

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)


@dataclass
class RequestToken:
    """A temporary credential (RFC 5849 §2.1) and its authorization state."""

    token: str
    secret: str
    consumer_key: str
    callback: str
    expires_at: float
    verifier: str | None = None
    user_id: str | None = None
    used: bool = False


@dataclass
class OAuth1AccessToken:
    """A token credential (RFC 5849 §2.3)."""

    token: str
    secret: str
    consumer_key: str
    user_id: str


@dataclass
class SignedRequest:
    """The verified protocol parameters of a request."""

    consumer_key: str
    token: str | None
    params: dict[str, str]


class OAuth1Problem(Exception):
    """A verification failure, rendered per the OAuth Problem Reporting extension."""

    def __init__(self, status_code: int, problem: str, advice: str, **extra: str) -> None:
        """Create the problem.

        Args:
            status_code: 400 (malformed) or 401 (bad credentials/signature), per RFC 5849 §3.2.
            problem: ``oauth_problem`` code, e.g. ``signature_invalid``.
            advice: Human-readable ``oauth_problem_advice``.
            **extra: Additional fields, e.g. ``oauth_parameters_absent``.
        """
        super().__init__(f"{problem}: {advice}")
        self.status_code = status_code
        self.problem = problem
        self.advice = advice
        self.extra = extra

    def response(self) -> Response:
        """Render as a form-encoded body (401s carry ``WWW-Authenticate: OAuth``).

        Returns:
            The response.
        """
        fields = {"oauth_problem": self.problem, "oauth_problem_advice": self.advice, **self.extra}
        headers = (
            {"WWW-Authenticate": 'OAuth realm="fake-oauth1"'} if self.status_code == 401 else {}
        )
        return Response(
            urlencode(fields),
            status_code=self.status_code,
            media_type="application/x-www-form-urlencoded",
            headers=headers,
        )


def _collect(request: Request, body: bytes) -> tuple[dict[str, str], list[tuple[str, str]]]:
    query = url_decode(request.url.query) if request.url.query else []
    body_params: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        body_params = extract_params(body.decode("utf-8")) or []
    header = request.headers.get("authorization", "")
    auth_params: list[tuple[str, str]] = []
    if header[:6].lower() == "oauth ":
        try:
            items = parse_keqv_list(parse_http_list(header[6:]))
        except (IndexError, ValueError) as exc:
            raise OAuth1Problem(400, "parameter_rejected", "Malformed Authorization") from exc
        auth_params = [(unescape(k), unescape(v)) for k, v in items.items()]
    sources = [
        [(k, v) for k, v in src if k.startswith("oauth_")]
        for src in (query, body_params, auth_params)
    ]
    used = [src for src in sources if src]
    if len(used) > 1:
        raise OAuth1Problem(400, "parameter_rejected", "oauth_* found in several places")
    oauth_params = dict(used[0]) if used else {}
    return oauth_params, [*query, *body_params, *auth_params]


async def verify(
    request: Request,
    *,
    consumer_secret: Callable[[str], str | None],
    token_secret: Callable[[str, str | None], str | None],
    seen_nonce: Callable[[str, str | None, str, str], bool],
    now: float,
    tolerance: int,
) -> SignedRequest:
    """Verify an HMAC-SHA1 signed request per RFC 5849 §3.2.

    Args:
        request: The incoming request.
        consumer_secret: Returns the secret of a consumer key, ``None`` if unknown.
        token_secret: Given ``(consumer_key, token)``, returns the secret of a token that this
            consumer may use at this endpoint (``""`` for "no token expected and none given"),
            or ``None`` to reject the token.
        seen_nonce: Records ``(consumer, token, timestamp, nonce)``; returns ``True`` if it
            was seen before.
        now: Current UNIX time.
        tolerance: Allowed clock skew in seconds for ``oauth_timestamp``.

    Returns:
        The verified parameters.

    Raises:
        OAuth1Problem: If anything is missing, unknown, stale, replayed or mis-signed.
    """
    body = await request.body()
    oauth_params, all_params = _collect(request, body)
    absent = [p for p in _REQUIRED if not oauth_params.get(p)]
    if absent:
        raise OAuth1Problem(
            400,
            "parameter_absent",
            "Missing protocol parameters",
            oauth_parameters_absent="&".join(absent),
        )
    if oauth_params.get("oauth_version", "1.0") != "1.0":
        raise OAuth1Problem(400, "version_rejected", "Only OAuth 1.0 is supported")
    if oauth_params["oauth_signature_method"] != "HMAC-SHA1":
        raise OAuth1Problem(400, "signature_method_rejected", "Only HMAC-SHA1 is supported")
    consumer_key = oauth_params["oauth_consumer_key"]
    secret = consumer_secret(consumer_key)
    if secret is None:
        raise OAuth1Problem(401, "consumer_key_unknown", "Unknown consumer key")
    timestamp = oauth_params["oauth_timestamp"]
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        raise OAuth1Problem(401, "timestamp_refused", "oauth_timestamp is out of range")
    token = oauth_params.get("oauth_token") or None
    tok_secret = token_secret(consumer_key, token)
    if tok_secret is None:
        raise OAuth1Problem(401, "token_rejected", "The token is invalid, expired or used")
    base_string = construct_base_string(request.method, str(request.url), all_params)
    expected = hmac_sha1_signature(base_string, secret, tok_secret)
    if not same(expected, oauth_params["oauth_signature"]):
        raise OAuth1Problem(401, "signature_invalid", "Signature does not match")
    if seen_nonce(consumer_key, token, timestamp, oauth_params["oauth_nonce"]):
        raise OAuth1Problem(401, "nonce_used", "oauth_nonce was already used")
    return SignedRequest(consumer_key=consumer_key, token=token, params=oauth_params)
