"""Rendering for the hosted connect page: forms from input schemas, result pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.spec import AuthOption
from core.settings import Settings

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def form_fields(
    option: AuthOption, values: dict[str, Any], errors: dict[str, str]
) -> list[dict[str, Any]]:
    schema = option.input_schema or {}
    required = set(schema.get("required", []))
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        fields.append(
            {
                "name": name,
                "title": prop.get("title", name),
                "description": prop.get("description"),
                "required": name in required,
                "sensitive": bool(prop.get("isSensitive") or prop.get("format") == "password"),
                "numeric": prop.get("type") in ("integer", "number"),
                "value": values.get(name, ""),
                "error": errors.get(f"inputs.{name}"),
            }
        )
    return fields


def coerce_inputs(option: AuthOption, form: dict[str, str]) -> dict[str, Any]:
    """Form strings → typed inputs per the schema; blank fields are left out."""
    properties = (option.input_schema or {}).get("properties") or {}
    inputs: dict[str, Any] = {}
    for name, prop in properties.items():
        raw = form.get(f"inputs.{name}", "").strip()
        if raw == "":
            continue
        kind = prop.get("type")
        try:
            if kind == "integer":
                inputs[name] = int(raw)
            elif kind == "number":
                inputs[name] = float(raw)
            elif kind == "boolean":
                inputs[name] = raw.lower() in ("1", "true", "on", "yes")
            else:
                inputs[name] = raw
        except ValueError:
            inputs[name] = raw  # the schema check reports the wrong type with its path
    return inputs


def redirect_allowed(settings: Settings, uri: str | None) -> bool:
    if not uri:
        return True
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    origins = settings.redirect_origins
    return "*" in origins or f"{parts.scheme}://{parts.netloc}" in origins


def _target_origins(settings: Settings, uri: str | None) -> list[str]:
    """Who may receive the popup's `postMessage`: the product's origin, never any page."""
    if uri:
        parts = urlsplit(uri)
        return [f"{parts.scheme}://{parts.netloc}"]
    return settings.redirect_origins or ["*"]


def result(
    request: Request,
    *,
    success: bool,
    message: str,
    redirect_uri: str | None,
    connection_id: str | None = None,
    error_key: str | None = None,
    status_code: int = 200,
) -> Response:
    """Returns to the product: a redirect when it gave a URI, else a page that posts a message."""
    params = {"connectionId": connection_id} if success else {"error": error_key or "error"}
    if not success:
        params["errorMessage"] = message
    return_url = None
    if redirect_uri:
        return_url = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}"
        if success:
            return RedirectResponse(return_url, status_code=303)
    payload = {"type": "osmo:connect", "success": success, **params}
    return templates.TemplateResponse(
        request,
        "result.html",
        {
            "success": success,
            "message": message,
            "connection_id": connection_id,
            "error_key": error_key,
            "return_url": return_url,
            "message_payload": payload,
            "target_origins": _target_origins(request.app.state.services.settings, redirect_uri),
        },
        status_code=status_code,
    )


def error_page(request: Request, message: str, key: str, status_code: int = 400) -> HTMLResponse:
    response = result(
        request,
        success=False,
        message=message,
        redirect_uri=None,
        error_key=key,
        status_code=status_code,
    )
    assert isinstance(response, HTMLResponse)
    return response
