from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.models import ApiModel, PublicModel

KEY_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_\-]*$"


class IntegrationBase(ApiModel):
    name: str | None = Field(default=None, max_length=255)
    client_id: str | None = Field(default=None, max_length=1000)
    scopes: list[str] = Field(default_factory=list)
    auth_options: list[str] = Field(
        default_factory=list, description="Enabled auth option keys; empty enables all."
    )
    parameters: dict[str, Any] = Field(default_factory=dict)


class IntegrationCreate(IntegrationBase):
    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    connector_key: str = Field(min_length=1, max_length=100)
    client_secret: str | None = Field(default=None, max_length=4000)


class IntegrationUpdate(ApiModel):
    name: str | None = Field(default=None, max_length=255)
    client_id: str | None = Field(default=None, max_length=1000)
    client_secret: str | None = Field(default=None, max_length=4000)
    scopes: list[str] | None = None
    auth_options: list[str] | None = None
    parameters: dict[str, Any] | None = None


class IntegrationPublic(PublicModel, IntegrationBase):
    id: str
    key: str
    name: str | None = None
    connector_key: str
    has_client_secret: bool = False
    client_secret: str | None = Field(
        default=None, description="Only for admins asking with includeSecrets=true."
    )
    logo_uri: str | None = Field(
        default=None, description="The connector's logo (compatibility name of `logoUrl`)."
    )
    created_at: datetime
    updated_at: datetime
