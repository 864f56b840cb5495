"""Both claim sets: Osmo's (`workspaceKey`/`tenantKey`) and Membrane's (`iss`/`id`)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from core.errors import OsmoError
from core.tokens import mint_token, verify_token

SECRET = "token-test-secret-" + "0123456789abcdef" * 4


def membrane_token(algorithm: str = "HS256", **claims: Any) -> str:
    """A token as `@membranehq/sdk` mints it (and as Membrane's docs tell backends to)."""
    return jwt.encode(
        {"iss": "ws", "exp": int(time.time()) + 60, **claims}, SECRET, algorithm=algorithm
    )


@pytest.mark.parametrize("algorithm", ["HS256", "HS512"])
def test_membrane_claims_name_the_workspace_and_customer(algorithm: str) -> None:
    token = membrane_token(algorithm, id="acme", name="Acme", fields={"plan": "pro"}, isAdmin=True)
    claims = verify_token(token, SECRET, "ws")
    assert (claims.workspace_key, claims.tenant_key) == ("ws", "acme")
    assert (claims.name, claims.fields, claims.is_admin) == ("Acme", {"plan": "pro"}, True)


def test_osmo_claims_still_work() -> None:
    claims = verify_token(mint_token(SECRET, "ws", tenant_key="acme"), SECRET, "ws")
    assert (claims.tenant_key, claims.is_admin) == ("acme", False)


@pytest.mark.parametrize(
    ("claims", "key"),
    [
        ({"iss": "elsewhere", "id": "acme"}, "not_authenticated"),  # another workspace
        ({"workspaceKey": "ws", "iss": "other", "id": "acme"}, "not_authenticated"),  # disagree
        ({"id": "acme", "tenantKey": "globex"}, "not_authenticated"),  # two customers
        ({"id": 42}, "not_authenticated"),  # malformed customer id
        ({"id": "acme", "exp": int(time.time()) - 60}, "access_token_expired"),
    ],
)
def test_membrane_tokens_that_say_two_things_or_nothing_valid_are_refused(
    claims: dict[str, Any], key: str
) -> None:
    with pytest.raises(OsmoError) as raised:
        verify_token(membrane_token(**claims), SECRET, "ws")
    assert (raised.value.status, raised.value.key) == (401, key)


def test_agreeing_claim_sets_are_one_caller() -> None:
    token = membrane_token(id="acme", tenantKey="acme", workspaceKey="ws")
    assert verify_token(token, SECRET, "ws").tenant_key == "acme"


def test_membrane_token_signed_with_another_secret_is_refused() -> None:
    forged = jwt.encode({"iss": "ws", "id": "acme", "exp": int(time.time()) + 60}, "x" * 64)
    with pytest.raises(OsmoError) as raised:
        verify_token(forged, SECRET, "ws")
    assert raised.value.key == "not_authenticated"
