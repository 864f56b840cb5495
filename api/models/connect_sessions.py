from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.models import ApiModel, PublicModel


class ConnectSessionCreate(ApiModel):
    integration_key: str = Field(min_length=1, max_length=100)
    connection_id: str | None = Field(
        default=None, max_length=100, description="Reconnect this connection (keeps its id)."
    )
    redirect_uri: str | None = Field(
        default=None,
        max_length=2000,
        description="Where the page returns to; its origin must be allowed.",
    )
    auth_option_key: str | None = Field(
        default=None,
        max_length=100,
        description="Use this auth option; when omitted the page offers the enabled ones.",
    )
    allow_multiple_connections: bool = Field(
        default=False, description="Add a connection even when the customer has one already."
    )


class ConnectSessionPublic(PublicModel):
    token: str = Field(description="Single-use; shown only here (Osmo keeps its hash).")
    url: str = Field(description="The connect page for this session: send the browser here.")
    expires_at: datetime
