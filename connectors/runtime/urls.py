"""Where a connection's requests may go: under the connector's base URL, and nowhere else.

Every request the runtime sends is resolved here, whoever built it: a path from the connector
spec, a next-page URL from a response, a path a customer typed into a flow node or the proxy.
A path is taken literally (never rendered as a template) and appended to the base URL; an
absolute URL is accepted only on the base URL's origin and under its path. A dot segment in
any spelling (`..`, `%2e%2e`, `..%2f`, `..\\`) is refused rather than resolved, because servers
disagree on how (and how many times) they decode a path before resolving it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

import httpx

from connectors.runtime.errors import ConnectorError
from connectors.runtime.templates import placeholders, render

# An absolute URL names a scheme and an authority; `v1/jobs:run` is a relative path.
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:)?[/\\]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[/\\]")
_HOST_NAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Percent-encoding decoded this many times covers double and triple encoding (`%252e`).
_DECODE_ROUNDS = 3


def invalid_url(message: str) -> ConnectorError:
    return ConnectorError("invalid_url", message)


def outside_api(message: str) -> ConnectorError:
    return ConnectorError("url_outside_api", message)


def customer_derived(url_template: str) -> bool:
    """Whether a URL is built from values the customer (or the app, in its token response)
    supplied, rather than only from the connector and the workspace admin."""
    return any(not path.startswith("integration.") for path in placeholders(url_template))


def render_url(template: str, context: dict[str, Any]) -> str:
    """Renders a URL template so that a value cannot change the URL's shape.

    A value that starts the template is a whole URL (`{{ credentials.instance_url }}`,
    `{{ integration.parameters.baseUrl }}/api/v4`); a value inside a literal authority
    (`https://{{ inputs.subdomain }}.zendesk.com`) must be a host name, so `attacker.example/`
    or `x@127.0.0.1#` cannot move the request (and the client secret a token request carries)
    to another host; a value in the path or query is percent-encoded as one segment.

    Raises:
        ConnectorError: `invalid_url` when a value inside the authority is no host name.
    """
    scheme = template.find("://")
    literal_scheme = scheme > 0 and "{{" not in template[:scheme]
    authority_end = len(template)
    if literal_scheme:
        slash = template.find("/", scheme + 3)
        authority_end = slash if slash >= 0 else len(template)

    def convert(offset: int, path: str, text: str) -> str:
        if offset == 0:
            return text
        if literal_scheme and offset < authority_end:
            if not _HOST_NAME.match(text):
                raise invalid_url(f"{path} must be a host name, not {text!r}")
            return text
        return quote(text, safe="")

    return render(template, context, convert=convert)


# Connections share a handful of base URLs; parsing one costs as much as a small request's
# own URL handling, so each is parsed (and checked) once.
@lru_cache(maxsize=1024)
def parse_base_url(rendered: str) -> httpx.URL:
    """The connection's rendered base URL, checked to be a plain absolute http(s) URL.

    Raises:
        ConnectorError: `invalid_url` for anything else, e.g. a subdomain input of
            `x@127.0.0.1#` that would turn the rest of the URL into a fragment.
    """
    if _CONTROL.search(rendered):
        raise invalid_url("The connection's base URL contains control characters")
    try:
        url = httpx.URL(rendered)
    except httpx.InvalidURL as exc:
        raise invalid_url(f"The connection's base URL is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise invalid_url("The connection's base URL is not an absolute http(s) URL")
    if url.userinfo or url.fragment or "#" in rendered or url.query:
        raise invalid_url("The connection's base URL may not carry credentials, query or fragment")
    _check_segments(url.raw_path.decode("ascii"))
    return url


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _check_segments(path: str) -> None:
    for segment in path.split("/"):
        decoded = segment
        for _ in range(_DECODE_ROUNDS):
            decoded = unquote(decoded)
        if any(piece in (".", "..") for piece in _SEPARATORS.split(decoded)):
            raise outside_api(f"Dot segments are not allowed in request paths: {segment!r}")


def resolve_url(base: httpx.URL, target: str) -> httpx.URL:
    """`target` (a path relative to `base`, or an absolute URL on `base`'s origin and under
    its path) as the URL to send, with its query kept.

    Raises:
        ConnectorError: `invalid_url` when `target` is not a URL at all (control characters,
            a bad port...), `url_outside_api` when it leads off the base URL.
    """
    if _CONTROL.search(target):
        raise invalid_url("Request paths may not contain control characters")
    # Raw (still percent-encoded), so an encoded `/` in the base path stays one segment.
    base_path = base.raw_path.decode("ascii").rstrip("/")
    if _ABSOLUTE.match(target):
        try:
            absolute = httpx.URL(target)
        except httpx.InvalidURL as exc:
            raise invalid_url(f"Invalid URL: {exc}") from exc
        if _origin(absolute) != _origin(base) or absolute.userinfo:
            raise outside_api(
                "Requests go to the connector's API only; an absolute URL must have the origin "
                f"of the base URL ({base.scheme}://{base.netloc.decode()})"
            )
        raw = absolute.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        _check_segments(path)
        if path != base_path and not path.startswith(base_path + "/"):
            raise outside_api(f"{path!r} is not under the API's base path {base_path or '/'!r}")
    else:
        if "#" in target:
            raise invalid_url("Request paths may not carry a fragment")
        path, _, query = target.partition("?")
        _check_segments(path)
        path = base_path + "/" + path.lstrip("/")
    origin = f"{base.scheme}://{base.netloc.decode('ascii')}"
    try:
        return httpx.URL(origin + path + (f"?{query}" if query else ""))
    except httpx.InvalidURL as exc:
        raise invalid_url(f"Invalid URL: {exc}") from exc
