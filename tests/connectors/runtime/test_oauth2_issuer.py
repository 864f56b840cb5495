"""RFC 9207 `iss` validation of authorization responses, per what the auth option declares."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.runtime import ConnectionContext
from connectors.runtime.oauth2 import check_issuer
from connectors.spec import ConnectorSpec, OAuth2Option
from core.errors import OsmoError

ISSUER = "https://login.example.com/{{ integration.parameters.tenant }}"


def option(**fields: Any) -> OAuth2Option:
    return OAuth2Option.model_validate(
        {"key": "oauth2", "type": "oauth2", "authorizeUrl": "a", "tokenUrl": "t", **fields}
    )


def context(auth: OAuth2Option) -> ConnectionContext:
    connector = ConnectorSpec.model_validate(
        {"key": "x", "name": "X", "api": {"baseUrl": "https://x"}, "auth": [auth.model_dump()]}
    )
    return ConnectionContext(
        connector=connector,
        auth=auth,
        customer_id="c",
        integration_key="x",
        client_id="id",
        client_secret=None,
        integration_parameters={"tenant": "acme"},
        scopes=[],
    )


def refusal(auth: OAuth2Option, iss: str | None) -> str | None:
    try:
        check_issuer(context(auth), auth, iss)
    except OsmoError as exc:
        return exc.key
    return None


def test_without_a_declared_issuer_iss_is_not_checked() -> None:
    plain = option()
    assert refusal(plain, None) is None
    assert refusal(plain, "https://anyone.example") is None


def test_a_different_iss_is_refused_even_when_not_promised() -> None:
    declared = option(issuer=ISSUER)
    assert refusal(declared, "https://login.example.com/acme") is None
    assert refusal(declared, None) is None
    assert refusal(declared, "https://login.example.com/globex") == "issuer_mismatch"
    assert refusal(declared, "https://login.example.com/acme/") == "issuer_mismatch"


def test_a_missing_iss_is_refused_when_the_provider_always_sends_it() -> None:
    strict = option(issuer=ISSUER, authorizationResponseIssParameterSupported=True)
    assert refusal(strict, "https://login.example.com/acme") is None
    assert refusal(strict, None) == "issuer_missing"
    assert refusal(strict, "https://evil.example") == "issuer_mismatch"


def test_promising_iss_needs_an_issuer() -> None:
    with pytest.raises(ValidationError, match="needs `issuer`"):
        option(authorizationResponseIssParameterSupported=True)
