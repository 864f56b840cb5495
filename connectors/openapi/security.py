"""Servers and security schemes → the connector's base URL and auth options.

| OpenAPI                                   | Osmo auth option                               |
|-------------------------------------------|------------------------------------------------|
| `oauth2` authorizationCode flow           | `oauth2` (authorizeUrl, tokenUrl, scopes)      |
| `oauth2` clientCredentials flow           | `oauth2-client-credentials`                    |
| `http` bearer                             | `api-key`, `Authorization: Bearer <apiKey>`    |
| `http` basic                              | `basic` (username, password inputs)            |
| `apiKey` in header / query / cookie       | `api-key` into that header / query / cookie    |
| no usable scheme                          | `custom` with nothing to apply                 |

Requested scopes are those the document's security requirements name for the scheme (what
its operations need), not every scope the flow lists. Server variables become inputs of every
auth option, because the connect page asks for inputs whatever the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from connectors.openapi.document import Document, OpenApiProblem, join
from connectors.openapi.naming import KeyAllocator, humanize, kebab, placeholder, template_name

_VARIABLE = re.compile(r"\{([^{}]+)\}")
# RFC 6750 lets a bearer token travel as `access_token`; Slack's description calls it `token`.
_BEARER_PARAMETERS = frozenset({"access_token", "token"})
_API_KEY_INPUT = {"type": "string", "title": "API key", "isSensitive": True, "minLength": 1}


@dataclass(frozen=True)
class Server:
    """The connector's `api.baseUrl` and the inputs its template reads."""

    base_url: str
    properties: dict[str, Any]
    required: list[str]


@dataclass
class AuthParameters:
    """Parameters that carry credentials; the auth option fills them, not operation inputs."""

    anywhere: set[str] = field(default_factory=lambda: {"authorization"})
    located: set[tuple[str, str]] = field(default_factory=set)

    def covers(self, location: str, name: str) -> bool:
        lowered = name.lower()
        return lowered in self.anywhere or (location, lowered) in self.located


@dataclass
class Auth:
    options: list[dict[str, Any]]
    parameters: AuthParameters
    notes: list[str]


def server(document: Document) -> Server:
    """`servers[0]`, its `{variables}` as `{{ inputs.<var> }}` (a relative URL asks for a host)."""
    servers = document.data.get("servers") or [{"url": "/"}]
    first = document.mapping(servers[0], "servers[0]") if isinstance(servers, list) else {}
    url = first.get("url") or "/"
    if not isinstance(url, str):
        raise OpenApiProblem("servers[0].url", "must be a string")
    variables = first.get("variables") or {}
    properties: dict[str, Any] = {}

    def to_input(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1)) or {}
        name = template_name(match.group(1))
        schema: dict[str, Any] = {"type": "string", "title": humanize(match.group(1))}
        for key in ("description", "default", "enum"):
            if variable.get(key) is not None:
                schema[key] = variable[key]
        properties[name] = schema
        return placeholder("inputs", name)

    base_url = _VARIABLE.sub(to_input, url).rstrip("/")
    if base_url.startswith("//"):
        base_url = "https:" + base_url
    elif not base_url.startswith(("http://", "https://", "{{")):
        properties["baseUrl"] = {"type": "string", "format": "uri", "title": "API base URL"}
        base_url = "{{ inputs.baseUrl }}" + base_url
    return Server(base_url, properties, list(properties))


def requested_scopes(document: Document) -> dict[str, list[str]]:
    """Scopes per scheme named by the global and per-operation security requirements."""
    requirements = list(document.data.get("security") or [])
    for item in (document.data.get("paths") or {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            if isinstance(operation, dict):
                requirements += operation.get("security") or []
    scopes: dict[str, dict[str, None]] = {}
    for requirement in requirements:
        for scheme, names in requirement.items() if isinstance(requirement, dict) else ():
            scopes.setdefault(scheme, {}).update(dict.fromkeys(names or []))
    return {scheme: list(names) for scheme, names in scopes.items()}


def auth_options(document: Document, api: Server) -> Auth:
    """Auth options for the document's security schemes, with server inputs added to each.

    Raises:
        OpenApiProblem: A scheme without its `type`, or an OAuth flow without its URLs.
    """
    components = document.mapping(document.data.get("components"), "components")
    schemes = document.mapping(components.get("securitySchemes"), "components.securitySchemes")
    scopes = requested_scopes(document)
    keys = KeyAllocator("auth")
    auth = Auth([], AuthParameters(), [])
    for name, raw in schemes.items():
        path = join("components.securitySchemes", name)
        scheme = document.mapping(raw, path, required=True)
        built = _options(scheme, name, path, scopes.get(name, []), api, auth)
        for option in built:
            option["key"] = keys.take(option.pop("key"))
            auth.options.append(_with_inputs(option, api))
    if not auth.options:
        auth.options.append(
            _with_inputs({"key": "custom", "type": "custom", "name": "No authentication"}, api)
        )
        auth.options[-1]["apply"] = {}
    return auth


def _options(
    scheme: dict[str, Any], name: str, path: str, scopes: list[str], api: Server, auth: Auth
) -> list[dict[str, Any]]:
    kind = scheme.get("type")
    label = humanize(name)
    if kind == "oauth2":
        auth.parameters.anywhere |= _BEARER_PARAMETERS
        return _oauth2(scheme, name, path, scopes, api, auth)
    if kind == "http":
        http_scheme = str(scheme.get("scheme", "")).lower()
        if http_scheme == "bearer":
            auth.parameters.anywhere |= _BEARER_PARAMETERS
            return [
                _api_key(name, label, {"headers": {"Authorization": "Bearer {{ inputs.apiKey }}"}})
            ]
        if http_scheme == "basic":
            return [_basic(name, label)]
        auth.notes.append(f"{path}: HTTP {http_scheme or '?'} authentication is not supported")
        return []
    if kind == "apiKey":
        return [_located_api_key(scheme, name, label, path, auth)]
    if kind is None:
        raise OpenApiProblem(join(path, "type"), "is missing")
    auth.notes.append(f"{path}: {kind} security schemes are not supported")
    return []


def _oauth2(
    scheme: dict[str, Any], name: str, path: str, scopes: list[str], api: Server, auth: Auth
) -> list[dict[str, Any]]:
    flows = scheme.get("flows") or {}
    label = "OAuth 2.0" if kebab(name) in ("oauth2", "oauth", "oauth-2") else humanize(name)
    options: list[dict[str, Any]] = []
    for flow_name, flow in flows.items():
        where = join(path, "flows", flow_name)
        if flow_name == "authorizationCode":
            refresh = flow.get("refreshUrl") if isinstance(flow, dict) else None
            if refresh and refresh != flow.get("tokenUrl"):
                auth.notes.append(f"{where}: refreshUrl ignored, tokens are refreshed at tokenUrl")
            options.append(
                {
                    "key": name,
                    "type": "oauth2",
                    "name": label,
                    "authorizeUrl": _url(flow, "authorizationUrl", where, api),
                    "tokenUrl": _url(flow, "tokenUrl", where, api),
                    "scopes": scopes,
                }
            )
        elif flow_name == "clientCredentials":
            options.append(
                {
                    "key": f"{name}-client-credentials",
                    "type": "oauth2-client-credentials",
                    "name": f"{label} (client credentials)",
                    "tokenUrl": _url(flow, "tokenUrl", where, api),
                    "scopes": scopes,
                }
            )
        else:
            auth.notes.append(f"{where}: the OAuth 2.0 {flow_name} flow is not supported")
    return options


def _url(flow: Any, key: str, path: str, api: Server) -> str:
    value = flow.get(key) if isinstance(flow, dict) else None
    if not isinstance(value, str) or not value:
        raise OpenApiProblem(join(path, key), "is missing")
    if value.startswith(("http://", "https://")) or not api.base_url.startswith("http"):
        return value
    return urljoin(api.base_url + "/", value)


def _api_key(name: str, label: str, apply: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": name,
        "type": "api-key",
        "name": label,
        "inputSchema": {
            "type": "object",
            "required": ["apiKey"],
            "properties": {"apiKey": _API_KEY_INPUT},
        },
        "apply": apply,
    }


def _located_api_key(
    scheme: dict[str, Any], name: str, label: str, path: str, auth: Auth
) -> dict[str, Any]:
    location, parameter = scheme.get("in"), scheme.get("name")
    if not isinstance(parameter, str) or not parameter:
        raise OpenApiProblem(join(path, "name"), "is missing")
    auth.parameters.located.add((str(location), parameter.lower()))
    if location == "header":
        return _api_key(name, label, {"headers": {parameter: "{{ inputs.apiKey }}"}})
    if location == "query":
        return _api_key(name, label, {"query": {parameter: "{{ inputs.apiKey }}"}})
    if location == "cookie":
        return _api_key(name, label, {"headers": {"Cookie": parameter + "={{ inputs.apiKey }}"}})
    raise OpenApiProblem(join(path, "in"), "must be header, query or cookie")


def _basic(name: str, label: str) -> dict[str, Any]:
    return {
        "key": name,
        "type": "basic",
        "name": label,
        "inputSchema": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string", "title": "Username", "minLength": 1},
                "password": {"type": "string", "title": "Password", "isSensitive": True},
            },
        },
    }


def _with_inputs(option: dict[str, Any], api: Server) -> dict[str, Any]:
    if not api.properties:
        return option
    schema = option.get("inputSchema") or {"type": "object", "properties": {}}
    option["inputSchema"] = {
        **schema,
        "required": [*api.required, *schema.get("required", [])],
        "properties": {**api.properties, **schema["properties"]},
    }
    return option
