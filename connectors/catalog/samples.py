"""Sample values: inputs, credentials and a whole connection made from a connector's schemas.

The dry run renders requests against these, so a template that reads something a real
connection will not have fails in a test, not in production.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.runtime import ConnectionContext
from connectors.spec import (
    AuthOption,
    ConnectorSpec,
    OAuth1Option,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
)

SAMPLE_FORMATS = {
    "email": "ada@example.com",
    "uri": "https://sample.example.com",
    "url": "https://sample.example.com",
    "hostname": "sample.example.com",
    "date-time": "2024-05-01T10:20:30Z",
    "date": "2024-05-01",
    "time": "10:20:30",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
}
SAMPLE_ID = "sample-id"
# The `webhook` variable of `subscribe`/`unsubscribe` mappings: where the app must send events,
# the app's id of the registered webhook, and a secret Osmo generated for it.
SAMPLE_WEBHOOK = {
    "url": "https://osmo.example.com/webhooks/sample",
    "id": "sample-webhook-id",
    "secret": "sample-webhook-secret",
}
# Unformatted strings whose names say what they hold (`siteUrl`, `dueDate`, `due_on`, `ownerId`).
_NAMED_SAMPLES = [
    (("url", "uri"), SAMPLE_FORMATS["url"]),
    (("date", "_on"), SAMPLE_FORMATS["date"]),
    (("time", "_at"), SAMPLE_FORMATS["date-time"]),
    (("id",), "12345"),
]
_INTEGRATION_PARAMETER = re.compile(r"integration\.parameters\.([A-Za-z0-9_\-]+)")


def sample_value(schema: Any, name: str = "value", *, required_only: bool = False) -> Any:
    """A value that fits a JSON schema: examples and defaults first, else one made up by type.

    Args:
        name: The property's name; strings name themselves (`sample-subdomain`) unless the
            name says what they hold (`siteUrl`, `dueDate`, `created_at`, `ownerId`).
        required_only: Objects get only their required properties (what the least complete
            valid input has).
    """
    if not isinstance(schema, dict):
        return f"sample-{name}"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        variants = [v for v in schema.get(key, []) if v.get("type") != "null"]
        if variants:
            return sample_value(variants[0], name, required_only=required_only)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        required = set(schema.get("required", []))
        return {
            key: sample_value(sub, key, required_only=required_only)
            for key, sub in schema.get("properties", {}).items()
            if key in required or not required_only
        }
    if kind == "array":
        return [sample_value(schema.get("items", {}), name, required_only=required_only)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _sample_string(schema, name)


def _sample_string(schema: dict[str, Any], name: str) -> str:
    text = SAMPLE_FORMATS.get(schema.get("format", ""), f"sample-{name}")
    if "format" not in schema:
        lowered = name.lower()
        text = next((value for ends, value in _NAMED_SAMPLES if lowered.endswith(ends)), text)
    text = text.ljust(schema.get("minLength", 0), "x")
    return text[: schema["maxLength"]] if "maxLength" in schema else text


def sample_credentials(option: AuthOption) -> dict[str, Any]:
    """Tokens a connected connection of this auth option holds."""
    names = ["access_token", "refresh_token"]
    if isinstance(option, OAuth1Option):
        names += ["oauth_token", "oauth_token_secret"]
    if isinstance(option, OAuth2Option | OAuth2ClientCredentialsOption):
        names += list(option.token_values)
    return {name: sample_value({"type": "string"}, name) for name in names}


def integration_parameters(spec: ConnectorSpec) -> dict[str, Any]:
    """Sample values for every `integration.parameters.x` the connector refers to."""
    names = sorted(set(_INTEGRATION_PARAMETER.findall(spec.model_dump_json(by_alias=True))))
    return {name: sample_value({"type": "string"}, name) for name in names}


def sample_context(
    spec: ConnectorSpec,
    option: AuthOption,
    *,
    required_only: bool = False,
    connected: bool = True,
) -> ConnectionContext:
    """A connection of `option` with sample inputs (all, or only the required ones).

    Args:
        connected: False for the connect flow before the token exchange (no credentials yet).
    """
    return ConnectionContext(
        connector=spec,
        auth=option,
        customer_id="sample-customer",
        integration_key=spec.key,
        client_id="sample-client-id",
        client_secret="sample-client-secret",
        integration_parameters=integration_parameters(spec),
        scopes=[],
        inputs=sample_value(option.input_schema or {}, required_only=required_only) or {},
        credentials=sample_credentials(option) if connected else {},
        credentials_version=1,
        connection_id="sample-connection",
    )
