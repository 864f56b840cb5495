"""Keeping a connection's OAuth tokens fresh: proactive refresh, single-flight across processes
(a per-process lock plus a lease in the database), rotation, and stopping at a dead grant."""

from __future__ import annotations

import asyncio
import time
import uuid

from connectors.runtime.context import ConnectionContext, CredentialStore
from connectors.runtime.errors import ConnectorError
from connectors.runtime.oauth2 import OAuth2Grants, OAuthGrantError, TokenSet
from connectors.spec import OAuth2ClientCredentialsOption, OAuth2Option
from core.models import ConnectionState, utcnow

LEASE_SECONDS = 30.0
# Grants whose failure means the stored refresh token (or the client) will never work again.
DEAD_GRANT_ERRORS = ("invalid_grant", "invalid_client", "unauthorized_client")


def disconnected_error(ctx: ConnectionContext) -> ConnectorError:
    return ConnectorError(
        "connection_disconnected",
        "The connection is disconnected; the customer must reconnect it",
        data={"connectionId": ctx.connection_id},
    )


def ensure_connected(ctx: ConnectionContext) -> None:
    """Refuses a connection marked disconnected, before anything is sent anywhere.

    Raises:
        ConnectorError: `connection_disconnected`.
    """
    if ctx.state == ConnectionState.disconnected:
        raise disconnected_error(ctx)


def token_lifetime(ctx: ConnectionContext) -> float | None:
    """Seconds the current access token was issued for (`expires_in` of its token response)."""
    try:
        lifetime = float(ctx.credentials.get("expires_in") or 0)
    except (TypeError, ValueError):
        return None
    return lifetime if lifetime > 0 else None


class CredentialKeeper:
    """Refreshes OAuth tokens for the runtime.

    Args:
        store: Credential persistence (None for throwaway contexts).
        grants: The token endpoint client.
        refresh_margin: Seconds before expiry at which tokens are refreshed proactively; capped
            at half the token's lifetime, so a token living 2 minutes is not refreshed (and
            its refresh token rotated) on every call.
    """

    def __init__(
        self, store: CredentialStore | None, grants: OAuth2Grants, refresh_margin: float
    ) -> None:
        self.store = store
        self.grants = grants
        self.refresh_margin = refresh_margin
        self.holder = uuid.uuid4().hex
        self._locks: dict[str, asyncio.Lock] = {}

    def can_refresh(self, ctx: ConnectionContext) -> bool:
        if isinstance(ctx.auth, OAuth2ClientCredentialsOption):
            return True
        # Without a refresh token (non-expiring tokens) there is nothing to refresh with.
        return (
            isinstance(ctx.auth, OAuth2Option)
            and ctx.auth.refresh
            and bool(ctx.credentials.get("refresh_token"))
        )

    def margin(self, ctx: ConnectionContext) -> float:
        """The proactive refresh margin for the current token."""
        lifetime = token_lifetime(ctx)
        return self.refresh_margin if lifetime is None else min(self.refresh_margin, lifetime / 2)

    async def ensure_fresh(self, ctx: ConnectionContext) -> None:
        """Refreshes a missing or soon-expiring access token before a call."""
        if not self.can_refresh(ctx):
            return
        missing = not ctx.credentials.get("access_token")
        expiring = ctx.token_expires_at is not None and (
            ctx.token_expires_at - utcnow()
        ).total_seconds() <= self.margin(ctx)
        if missing or expiring:
            await self.refresh(ctx, stale_version=ctx.credentials_version)

    async def refresh(self, ctx: ConnectionContext, stale_version: int | None = None) -> None:
        """Gets a new access token unless another caller already did (single-flight).

        Raises:
            ConnectorError: `connection_is_defunct` when the provider says `invalid_grant`
                (the connection is then marked disconnected), `connection_disconnected` when
                it already was (the provider is not asked again), else `access_token_expired`.
        """
        ensure_connected(ctx)
        stale = ctx.credentials_version if stale_version is None else stale_version
        if ctx.connection_id is None or self.store is None:
            self._apply(ctx, await self._new_token(ctx))
            return
        connection_id = ctx.connection_id
        lock = self._locks.setdefault(connection_id, asyncio.Lock())
        async with lock:
            await self._acquire_lease(connection_id)
            try:
                snapshot = await asyncio.to_thread(self.store.load_credentials, connection_id)
                ctx.apply_snapshot(snapshot)
                # A caller that held the lease before us may have found the grant dead.
                ensure_connected(ctx)
                if snapshot.version != stale:
                    return
                token = await self._new_token(ctx)
                version = await asyncio.to_thread(
                    self.store.save_credentials, connection_id, token.credentials, token.expires_at
                )
                self._apply(ctx, token, version)
            finally:
                await asyncio.to_thread(self.store.unlock, connection_id, self.holder)

    def _apply(self, ctx: ConnectionContext, token: TokenSet, version: int = 0) -> None:
        ctx.credentials = token.credentials
        ctx.token_expires_at = token.expires_at
        ctx.credentials_version = version or ctx.credentials_version + 1

    async def _acquire_lease(self, connection_id: str) -> None:
        assert self.store is not None
        deadline = time.monotonic() + LEASE_SECONDS
        while not await asyncio.to_thread(
            self.store.try_lock, connection_id, self.holder, LEASE_SECONDS
        ):
            if time.monotonic() > deadline:
                raise ConnectorError("timeout", "Timed out waiting for a credential refresh")
            await asyncio.sleep(0.05)

    async def _new_token(self, ctx: ConnectionContext) -> TokenSet:
        try:
            if isinstance(ctx.auth, OAuth2ClientCredentialsOption):
                return await self.grants.client_credentials(ctx, ctx.auth)
            assert isinstance(ctx.auth, OAuth2Option)
            return await self.grants.refresh(ctx, ctx.auth)
        except OAuthGrantError as exc:
            message = f"Token refresh failed: {exc}"
            if exc.error in DEAD_GRANT_ERRORS:
                if ctx.connection_id and self.store is not None:
                    await asyncio.to_thread(
                        self.store.mark_state,
                        ctx.connection_id,
                        ConnectionState.disconnected,
                        exc.error,
                        exc.description or exc.error,
                    )
                ctx.state = ConnectionState.disconnected
                raise ConnectorError(
                    "connection_is_defunct", message, data={"reason": exc.error}
                ) from exc
            raise ConnectorError("access_token_expired", message) from exc
