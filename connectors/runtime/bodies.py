"""Turns an app's answer into a body by its content type: the one place that reads responses.

Apps answer more than JSON: Trello's errors are plain text, exports are CSV, some endpoints
answer HTML or a file, deletes answer nothing. Reading every answer as JSON crashed on those
with a raw `JSONDecodeError`; reading it as text mangled binary data. Here:

- no content → `None`;
- a JSON content type (`application/json`, `application/problem+json`, `…+json`) → the parsed
  value, and a body that claims JSON but does not parse is `invalid_json_response` (the app is
  broken or answered an error page with the wrong header: guessing would hide it);
- no content type at all → JSON when it parses (some apps leave the header out), text otherwise;
- `text/*`, XML, form and JavaScript types → the decoded text;
- anything else (PDF, images, zip, octet-stream) → `{"contentType", "base64"}`, which survives
  JSON (workflow history, API responses) unchanged.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from connectors.runtime.errors import ConnectorError

_TEXT_TYPES = (
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
    "application/csv",
)


def media_type(response: httpx.Response) -> str:
    """The response's media type, lower case, without parameters (`""` when absent)."""
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json_type(media: str) -> bool:
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def is_text_type(media: str) -> bool:
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+xml")


def response_body(response: httpx.Response) -> Any:
    """The body of `response` by its content type (see the module docstring).

    Raises:
        ConnectorError: `invalid_json_response` when a JSON content type carries no valid JSON.
    """
    content = response.content
    if not content:
        return None
    media = media_type(response)
    if is_json_type(media):
        try:
            return json.loads(content)
        except ValueError as exc:
            raise ConnectorError(
                "invalid_json_response",
                f"The app answered {media} that is not valid JSON: {exc}",
                upstream_status=response.status_code,
                data={"contentType": media},
            ) from exc
    if not media:
        try:
            return json.loads(content)
        except ValueError:
            pass
        try:
            return content.decode(response.encoding or "utf-8")
        except (LookupError, UnicodeDecodeError):
            return binary_body(content, "application/octet-stream")
    if is_text_type(media):
        return response.text
    return binary_body(content, media)


def binary_body(content: bytes, content_type: str) -> dict[str, str]:
    """Bytes as JSON: `{"contentType", "base64"}`."""
    return {"contentType": content_type, "base64": base64.b64encode(content).decode("ascii")}
