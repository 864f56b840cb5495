"""State records of the fake CRM (public so tests can inspect ``FakeCRM`` internals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OAuthClient:
    """A registered OAuth client (``redirect_uris=None`` allows any redirect URI)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] | None = None


@dataclass
class CRMUser:
    """A resource owner who can log in on the authorize page."""

    id: str
    username: str
    password: str
    email: str
    name: str


@dataclass
class AuthCode:
    """An issued authorization code and everything it is bound to."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    code_challenge: str | None
    expires_at: float
    grant_id: str
    used: bool = False


@dataclass
class AccessToken:
    """An issued access token; ``subject`` is a user id or ``client:<client_id>``."""

    token: str
    client_id: str
    subject: str
    scope: str
    expires_at: float
    grant_id: str
    revoked: bool = False


@dataclass
class RefreshToken:
    """An issued refresh token; ``invalid_reason`` is set once it stops working."""

    token: str
    client_id: str
    user_id: str
    scope: str
    grant_id: str
    invalid_reason: str | None = None
