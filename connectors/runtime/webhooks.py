"""Incoming webhooks as the connector's `webhooks` section describes them: verifying a request
(`verify_request`), answering the app's setup handshakes (`handshake`), splitting a delivery
into events and naming them (`split_events`, `event_id`, `event_type`), and finding which
connection an app-level event belongs to (`route_event`)."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt

from connectors.runtime.mapping import locate
from connectors.runtime.templates import render
from connectors.spec import WebhookRouting, WebhookSignature, WebhookSpec
from connectors.spec.webhooks import WebhookHandshake
from core.errors import OsmoError
from core.formulas.locators import LocatorError, parse_locator

_DIGESTS = {"hmac-sha256": hashlib.sha256, "hmac-sha1": hashlib.sha1}
_PLACEHOLDER = re.compile(r"\{(body|timestamp|url|method|header:[^{}]+)\}")
# HubSpot's v3 signature: "decode the following URL-encoded characters" of the request URI.
_HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(_HUBSPOT_DECODED), re.IGNORECASE)


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh webhook from the app."""


@dataclass(frozen=True)
class HandshakeReply:
    """The answer to a handshake request; the request delivers no events.

    When `signed`, the app signed the request and the reply may be sent only once
    `verify_request` passed (`handshake(..., context=...)` does it first).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    secret: str | None = None
    """A secret the app handed over in the handshake (Asana `X-Hook-Secret`, Notion's
    `verification_token`): keep it (encrypted) as the webhook's secret for later checks."""
    signed: bool = False
    name: str = ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _json(body: Any) -> Any:
    """A body as JSON when it is JSON text; anything else is returned as is."""
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode()
        except UnicodeDecodeError:
            return body
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


# -- verification -----------------------------------------------------------------------------


def _seconds(timestamp: Any, unit: str) -> float:
    """Epoch seconds from a Unix timestamp (seconds or milliseconds) or an ISO 8601 one."""
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        number = float(timestamp)
    else:
        try:
            number = float(str(timestamp).strip())
        except ValueError:
            try:
                text = str(timestamp).strip().replace("Z", "+00:00")
                return datetime.fromisoformat(text).timestamp()
            except ValueError as exc:
                raise WebhookVerificationError("malformed signature timestamp") from exc
    if not math.isfinite(number):
        raise WebhookVerificationError("malformed signature timestamp")
    return number / 1000 if unit == "ms" else number


def _candidates(spec: WebhookSignature, headers: Mapping[str, str]) -> tuple[list[str], str | None]:
    """Signatures offered by the request, and its timestamp from the headers."""
    raw = _header(headers, spec.header)
    if raw is None:
        raise WebhookVerificationError(f"missing {spec.header} header")
    if spec.header_format == "stripe":
        parts = [p.split("=", 1) for p in raw.split(",") if "=" in p]
        timestamp = next((v.strip() for k, v in parts if k.strip() == "t"), None)
        return [v.strip() for k, v in parts if k.strip() == "v1"], timestamp
    timestamp = _header(headers, spec.timestamp_header) if spec.timestamp_header else None
    value = raw.strip()
    return [value[len(spec.prefix) :] if value.startswith(spec.prefix) else value], timestamp


def _check_fresh(spec: WebhookSignature, timestamp: Any, now: float | None) -> None:
    if spec.tolerance_seconds is None:
        return
    age = abs((now if now is not None else time.time()) - _seconds(timestamp, spec.timestamp_unit))
    if age > spec.tolerance_seconds:
        raise WebhookVerificationError("signature timestamp is too old")


def _signed_bytes(
    spec: WebhookSignature,
    *,
    method: str,
    url: str | None,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: str | None,
) -> bytes:
    """The bytes the app signed: `payload` with its placeholders substituted once each."""
    parts: list[bytes] = []
    position = 0
    for match in _PLACEHOLDER.finditer(spec.payload):
        parts.append(spec.payload[position : match.start()].encode())
        name = match.group(1)
        if name == "body":
            parts.append(body)
        elif name == "timestamp":
            parts.append((timestamp or "").encode())
        elif name == "method":
            parts.append(method.upper().encode())
        elif name == "url":
            if url is None:
                raise WebhookVerificationError("the signature covers the URL, which is unknown")
            called = _ENCODED.sub(lambda m: _HUBSPOT_DECODED[m.group(0).upper()], url)
            parts.append((called if spec.decode_url else url).encode())
        else:
            value = _header(headers, name.split(":", 1)[1])
            if value is None:
                raise WebhookVerificationError(f"missing {name.split(':', 1)[1]} header")
            parts.append(value.encode())
        position = match.end()
    parts.append(spec.payload[position:].encode())
    return b"".join(parts)


def _render(template: str, context: dict[str, Any]) -> str:
    """A secret's template rendered; a value the context lacks fails the check (401), not the
    request (500): nothing can be verified without it."""
    try:
        return render(template, context)
    except OsmoError as exc:
        raise WebhookVerificationError(f"the signing secret is not configured ({exc})") from exc


def _secret(spec: WebhookSignature, context: dict[str, Any]) -> bytes:
    secret = _render(spec.secret, context).encode()
    if spec.secret_encoding == "base64":
        try:
            return base64.b64decode(secret, validate=True)
        except binascii.Error as exc:
            raise WebhookVerificationError("the signing secret is not base64") from exc
    return secret


def _verify_hmac(
    spec: WebhookSignature,
    *,
    method: str,
    url: str | None,
    headers: Mapping[str, str],
    body: bytes,
    context: dict[str, Any],
    now: float | None,
) -> None:
    signatures, timestamp = _candidates(spec, headers)
    timed = (
        "{timestamp}" in spec.payload
        or spec.header_format == "stripe"
        or spec.timestamp_header is not None
    )
    if timed:
        if timestamp is None:
            raise WebhookVerificationError("missing signature timestamp")
        _check_fresh(spec, timestamp, now)
    signed = _signed_bytes(
        spec, method=method, url=url, headers=headers, body=body, timestamp=timestamp
    )
    digest = hmac.new(_secret(spec, context), signed, _DIGESTS[spec.algorithm]).digest()
    if spec.encoding == "hex":
        expected = digest.hex()
        offered = [candidate.strip().lower() for candidate in signatures]
    else:
        expected = base64.b64encode(digest).decode()
        offered = [candidate.strip() for candidate in signatures]
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in offered):
        raise WebhookVerificationError("signature does not match")
    if spec.timestamp_path is not None:
        # The time is inside the (now verified) body: check it after the HMAC.
        data = _json(body)
        stamp = locate(data, spec.timestamp_path) if isinstance(data, dict | list) else None
        if stamp is None:
            raise WebhookVerificationError("missing signature timestamp")
        _check_fresh(spec, stamp, now)


def _authorization(spec: WebhookSignature, headers: Mapping[str, str], scheme: str) -> str:
    raw = _header(headers, spec.header)
    if raw is None:
        raise WebhookVerificationError(f"missing {spec.header} header")
    kind, _, value = raw.strip().partition(" ")
    if kind.lower() != scheme.lower() or not value.strip():
        raise WebhookVerificationError(f"{spec.header} is not {scheme} credentials")
    return value.strip()


def _verify_basic(
    spec: WebhookSignature, headers: Mapping[str, str], context: dict[str, Any]
) -> None:
    try:
        decoded = base64.b64decode(_authorization(spec, headers, "Basic"), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise WebhookVerificationError("malformed basic credentials") from exc
    user, sep, password = decoded.partition(":")
    expected_user = _render(spec.username or "", context)
    expected_password = _render(spec.secret, context)
    user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    if not (sep and user_ok and password_ok):
        raise WebhookVerificationError("basic credentials do not match")


def _verify_token(
    spec: WebhookSignature, headers: Mapping[str, str], context: dict[str, Any]
) -> None:
    signatures, _ = _candidates(spec, headers)
    expected = _render(spec.secret, context)
    if not any(hmac.compare_digest(expected.encode(), s.strip().encode()) for s in signatures):
        raise WebhookVerificationError("token does not match")


def _verify_jwt(
    spec: WebhookSignature,
    headers: Mapping[str, str],
    context: dict[str, Any],
    now: float | None,
) -> None:
    token = _authorization(spec, headers, "Bearer")
    try:
        claims = jwt.decode(
            token,
            _secret(spec, context),
            algorithms=["HS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise WebhookVerificationError("bearer token does not verify") from exc
    current = now if now is not None else time.time()
    expires = claims.get("exp")
    if expires is not None and (not isinstance(expires, int | float) or current > expires):
        raise WebhookVerificationError("bearer token has expired")


def _verify_scheme(
    spec: WebhookSignature,
    *,
    method: str,
    url: str | None,
    headers: Mapping[str, str],
    body: bytes,
    context: dict[str, Any],
    now: float | None,
) -> None:
    if spec.algorithm == "token":
        _verify_token(spec, headers, context)
    elif spec.algorithm == "basic-auth":
        _verify_basic(spec, headers, context)
    elif spec.algorithm == "jwt-hs256":
        _verify_jwt(spec, headers, context, now)
    else:
        _verify_hmac(
            spec, method=method, url=url, headers=headers, body=body, context=context, now=now
        )


def _carries(spec: WebhookSignature, headers: Mapping[str, str]) -> bool:
    value = _header(headers, spec.header)
    if value is None:
        return False
    if spec.algorithm in ("basic-auth", "jwt-hs256"):
        scheme = "basic" if spec.algorithm == "basic-auth" else "bearer"
        return value.strip().lower().startswith(scheme + " ")
    return True


def verify_request(
    spec: WebhookSpec | WebhookSignature,
    *,
    method: str,
    url: str | None,
    headers: Mapping[str, str],
    body: bytes,
    context: dict[str, Any],
    now: float | None = None,
) -> None:
    """Checks that a webhook request comes from the app, as the connector says.

    Args:
        spec: The connector's `webhooks` section, or one signature scheme. With a section,
            the request is checked with the schemes (`signature`, then
            `alternativeSignatures`) whose header it carries and passes when one verifies;
            a section without any scheme checks nothing (the app does not sign its webhooks).
        method: The HTTP method of the request.
        url: The full URL the app called, as the app saw it (Osmo's public webhook URL, path
            and query): HubSpot v3 and Trello sign it. None when unknown: a scheme that
            signs it then fails.
        headers: The request headers (names in any case).
        body: The raw request body, exactly as received.
        context: Template context for the secret (`integration` with `clientSecret` and
            `parameters`, the connection's `inputs` and `credentials`, the subscription's
            `webhook` with `secret`).
        now: Current time (epoch seconds); for tests.

    Raises:
        WebhookVerificationError: Missing, stale or wrong signature or credentials.
    """
    if isinstance(spec, WebhookSignature):
        schemes = [spec]
    else:
        schemes = [s for s in (spec.signature, *spec.alternative_signatures) if s is not None]
    if not schemes:
        return
    # Several schemes can share a header (Stripe signs app-level endpoints with the secret the
    # product configured and endpoints Osmo registered with each endpoint's own): the request
    # passes when one of those it carries verifies.
    carried = [s for s in schemes if _carries(s, headers)] or schemes[:1]
    failures: list[WebhookVerificationError] = []
    for scheme in carried:
        try:
            _verify_scheme(
                scheme, method=method, url=url, headers=headers, body=body, context=context, now=now
            )
            return
        except WebhookVerificationError as exc:
            failures.append(exc)
    raise failures[0]


def verify_signature(
    spec: WebhookSignature,
    headers: Mapping[str, str],
    body: bytes,
    context: dict[str, Any],
    *,
    now: float | None = None,
) -> None:
    """`verify_request` for a POST whose URL is unknown (kept for existing callers).

    Raises:
        WebhookVerificationError: Missing, stale or wrong signature.
    """
    verify_request(
        spec, method="POST", url=None, headers=headers, body=body, context=context, now=now
    )


# -- handshakes -------------------------------------------------------------------------------

_MISSING = object()


def _matches(rule: WebhookHandshake, method: str, headers: Mapping[str, str], data: Any) -> bool:
    match = rule.match
    if match.method is not None and match.method.upper() != method.upper():
        return False
    if match.header is not None:
        value = _header(headers, match.header)
        if value is None or (match.header_value is not None and value != match.header_value):
            return False
    if match.body_path is not None:
        if not isinstance(data, dict | list):
            return False
        found = locate(data, match.body_path)
        if found is None or (match.body_value is not None and found != match.body_value):
            return False
    return True


def handshake(
    spec: WebhookSpec,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    url: str | None = None,
    context: dict[str, Any] | None = None,
    now: float | None = None,
) -> HandshakeReply | None:
    """The answer to a setup request the app sends (`webhooks.handshakes`), or None when the
    request is not one (an ordinary delivery).

    Args:
        spec: The connector's `webhooks` section.
        method: The HTTP method (Trello checks the URL with HEAD).
        headers: The request headers.
        body: The raw request body.
        url, context, now: As for `verify_request`. With `context`, a signed handshake is
            verified here (raising `WebhookVerificationError`); without it, the caller must
            verify a reply marked `signed` before sending it.
    """
    if not spec.handshakes:
        return None
    data: Any = _MISSING
    for rule in spec.handshakes:
        needs_body = rule.match.body_path is not None
        if needs_body and data is _MISSING:
            data = _json(body)
        if not _matches(rule, method, headers, None if data is _MISSING else data):
            continue
        if rule.signed and context is not None:
            verify_request(
                spec, method=method, url=url, headers=headers, body=body, context=context, now=now
            )
        reply_headers: dict[str, str] = {}
        for name in rule.reply.echo_headers:
            value = _header(headers, name)
            if value is not None:
                reply_headers[name] = value
        content = b""
        if rule.reply.body_path is not None:
            if data is _MISSING:
                data = _json(body)
            value = locate(data, rule.reply.body_path) if isinstance(data, dict | list) else None
            if value is not None:
                text = value if isinstance(value, str) else json.dumps(value)
                content = text.encode()
                reply_headers["Content-Type"] = rule.reply.content_type
        secret = None
        if rule.secret_header is not None:
            secret = _header(headers, rule.secret_header)
        if secret is None and rule.secret_path is not None:
            if data is _MISSING:
                data = _json(body)
            found = locate(data, rule.secret_path) if isinstance(data, dict | list) else None
            secret = None if found is None else str(found)
        return HandshakeReply(
            status=rule.reply.status,
            headers=reply_headers,
            body=content,
            secret=secret,
            signed=rule.signed,
            name=rule.name,
        )
    return None


# -- events -----------------------------------------------------------------------------------


def split_events(spec: WebhookSpec, body: Any) -> list[Any]:
    """The events of one delivery.

    Args:
        spec: The connector's `webhooks` section.
        body: The request body, parsed (JSON) or raw (bytes or text, parsed here when JSON).

    Returns:
        With `eventsPath`: the list found there (one value: a list of it; nothing there, e.g.
        Asana's heartbeat `{"events": []}`: no events). Without: `[body]`.
    """
    data = _json(body)
    if spec.events_path is None:
        return [data]
    if not isinstance(data, dict | list):
        return []
    found = locate(data, spec.events_path)
    if found is None:
        return []
    return list(found) if isinstance(found, list) else [found]


def _without(event: Any, excluded: list[str]) -> Any:
    if not excluded or not isinstance(event, dict | list):
        return event
    trimmed = copy.deepcopy(event)
    for path in excluded:
        try:
            segments = parse_locator(path)
        except LocatorError:
            continue
        parent: Any = trimmed
        for segment in segments[:-1]:
            if isinstance(parent, dict):
                parent = parent.get(segment)
            elif isinstance(parent, list) and isinstance(segment, int) and segment < len(parent):
                parent = parent[segment]
            else:
                parent = None
                break
        last = segments[-1] if segments else None
        if isinstance(parent, dict) and last in parent:
            del parent[last]
    return trimmed


def content_id(event: Any, exclude: list[str] | None = None) -> str:
    """SHA-256 (hex) of the canonical JSON of an event (keys sorted, no spaces, UTF-8),
    leaving out the fields named by `exclude`."""
    canonical = json.dumps(
        _without(event, exclude or []),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_id(spec: WebhookSpec, event: Any, headers: Mapping[str, str] | None = None) -> str:
    """An event's id, the same on every redelivery: the value at `eventIdPath`, else the
    `eventIdHeader` of the request, else the SHA-256 of the event's canonical JSON (without
    the `eventIdExclude` fields)."""
    if spec.event_id_path is not None and isinstance(event, dict | list):
        found = locate(event, spec.event_id_path)
        if found is not None and found != "":
            return str(found)
    if spec.event_id_header is not None and headers:
        value = _header(headers, spec.event_id_header)
        if value:
            return value
    return content_id(event, spec.event_id_exclude)


def event_type(
    spec: WebhookSpec, event: Any, headers: Mapping[str, str] | None = None
) -> str | None:
    """An event's type: the value at `eventTypePath`, else the `eventTypeHeader`, else None."""
    if spec.event_type_path is not None and isinstance(event, dict | list):
        found = locate(event, spec.event_type_path)
        if found is not None and found != "":
            return str(found)
    if spec.event_type_header is not None and headers:
        return _header(headers, spec.event_type_header)
    return None


def route_event(
    routing: WebhookRouting, event: Any, connections: Iterable[tuple[str, dict[str, Any]]]
) -> str | None:
    """The id of the connection an app-level event belongs to (or None).

    Args:
        routing: The connector's routing rule.
        event: One parsed event.
        connections: (connection id, template context) of the integration's connections.
    """
    value = locate(event, routing.event_path)
    if value is None:
        return None
    for connection_id, context in connections:
        try:
            if render(routing.connection_value, context) == str(value):
                return connection_id
        except Exception:  # a connection without the value cannot match
            continue
    return None
