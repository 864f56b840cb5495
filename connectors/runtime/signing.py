"""How a connection's credentials go onto a request: the auth option's `apply` mapping (or
the default for its type), Basic auth, and OAuth 1.0a signatures.

These templates belong to the connector, so they may read `credentials` and secret inputs.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.runtime.context import ConnectionContext
from connectors.runtime.oauth1 import request_signer
from connectors.runtime.templates import render
from connectors.spec import (
    BasicOption,
    CredentialsMapping,
    OAuth1Option,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
)

BEARER = CredentialsMapping(headers={"Authorization": "Bearer {{ credentials.access_token }}"})
BASIC = CredentialsMapping.model_validate(
    {"basic": {"username": "{{ inputs.username }}", "password": "{{ inputs.password }}"}}
)


def credentials_mapping(ctx: ConnectionContext) -> CredentialsMapping | None:
    """Headers, query parameters or Basic credentials the auth option puts on requests."""
    if ctx.auth.apply is not None:
        return ctx.auth.apply
    if isinstance(ctx.auth, OAuth2Option | OAuth2ClientCredentialsOption):
        return BEARER
    if isinstance(ctx.auth, BasicOption):
        return BASIC
    return None


def sign(
    ctx: ConnectionContext,
    request: httpx.Request,
    mapping: CredentialsMapping | None,
    template: dict[str, Any],
) -> httpx.Request:
    """`request` with Basic auth and/or an OAuth 1.0a signature, where the option has them."""
    if mapping and mapping.basic:
        user = render(mapping.basic.username, template)
        password = render(mapping.basic.password, template) if mapping.basic.password else ""
        request = next(httpx.BasicAuth(user, password).auth_flow(request))
    if isinstance(ctx.auth, OAuth1Option):
        request = next(request_signer(ctx, ctx.auth).auth_flow(request))
    return request
