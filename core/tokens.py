"""Workspace API tokens: JWTs signed with the workspace secret.

Two claim sets are accepted, checked with the same secret:

- Osmo's: `workspaceKey` (this workspace) and `tenantKey` (the customer, omitted for
  workspace-level tokens).
- Membrane's, as `@membranehq/sdk` mints them and as its docs tell backends to: the workspace
  key in `iss` and the customer's id in `id`.

Both share `name`, `fields`, `isAdmin` and `exp`. A token may carry both sets, but where it
gives two values for one thing they must agree, so no token means two different callers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from core.errors import OsmoError

ALGORITHMS = ["HS256", "HS512"]


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says about its caller."""

    workspace_key: str
    tenant_key: str | None = None
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    is_admin: bool = False


def _auth_error(key: str, message: str) -> OsmoError:
    return OsmoError("auth", key, message, status=401)


def mint_token(
    secret: str,
    workspace_key: str,
    *,
    tenant_key: str | None = None,
    name: str | None = None,
    fields: dict[str, Any] | None = None,
    is_admin: bool = False,
    ttl_seconds: int = 3600,
    algorithm: str = "HS256",
) -> str:
    """Signs a token the API accepts (for development, tests and the product's backend)."""
    claims: dict[str, Any] = {"workspaceKey": workspace_key, "exp": int(time.time()) + ttl_seconds}
    if tenant_key is not None:
        claims["tenantKey"] = tenant_key
    if name is not None:
        claims["name"] = name
    if fields:
        claims["fields"] = fields
    if is_admin:
        claims["isAdmin"] = True
    return jwt.encode(claims, secret, algorithm=algorithm)


INVALID_TOKEN_MESSAGE = (
    "The access token is not a valid JWT signed with HS256 or HS512 by this workspace"
)


def verify_token(token: str, secret: str, workspace_key: str) -> TokenClaims:
    """Verifies signature, expiry and workspace of a token.

    Raises:
        OsmoError: 401 `access_token_expired` or `not_authenticated`.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=ALGORITHMS, options={"require": ["exp"]}, leeway=5
        )
    except jwt.ExpiredSignatureError as exc:
        raise _auth_error("access_token_expired", "The access token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise _auth_error("not_authenticated", "The access token's signature is not valid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _auth_error(
            "not_authenticated", f"The access token has no {exc.claim!r} claim"
        ) from exc
    except jwt.InvalidTokenError as exc:
        # The decoder's own words ("Invalid header padding", "Not enough segments") describe
        # its internals, not what the caller should do, and echo parts of the token.
        raise _auth_error("not_authenticated", INVALID_TOKEN_MESSAGE) from exc
    if _one_of(claims, "workspaceKey", "iss") != workspace_key:
        raise _auth_error("not_authenticated", "The token belongs to another workspace")
    tenant_key = _one_of(claims, "tenantKey", "id")
    fields = claims.get("fields") or {}
    if (tenant_key is not None and not isinstance(tenant_key, str)) or not isinstance(fields, dict):
        raise _auth_error("not_authenticated", "Malformed tenantKey (id) or fields claim")
    return TokenClaims(
        workspace_key=workspace_key,
        tenant_key=tenant_key,
        name=claims.get("name"),
        fields=fields,
        is_admin=claims.get("isAdmin") is True,
    )


def _one_of(claims: dict[str, Any], osmo: str, membrane: str) -> Any:
    """The value of Osmo's claim or of Membrane's claim for the same thing (401 if they differ)."""
    ours, theirs = claims.get(osmo), claims.get(membrane)
    if ours is not None and theirs is not None and ours != theirs:
        raise _auth_error("not_authenticated", f"The {osmo} and {membrane} claims disagree")
    return ours if ours is not None else theirs
