from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, computed_field

from api.models import ApiModel, PublicModel


class ConnectionCreate(ApiModel):
    integration_key: str = Field(min_length=1)
    auth_option_key: str | None = None
    name: str | None = Field(default=None, max_length=255)
    inputs: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] | None = Field(
        default=None, description="Admins only: import existing credentials (e.g. tokens)."
    )
    customer_id: str | None = Field(default=None, description="Admins only: owner customer.")


class ConnectionUpdate(ApiModel):
    name: str | None = Field(default=None, max_length=255)


class ConnectionPublic(PublicModel):
    id: str
    customer_id: str
    integration_id: str
    integration_key: str
    auth_option_key: str
    name: str | None = None
    state: str
    disconnect_reason: str | None = None
    error_message: str | None = None
    token_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    inputs: dict[str, Any] | None = Field(default=None, description="includeSecrets=true only.")
    credentials: dict[str, Any] | None = Field(
        default=None, description="includeSecrets=true only."
    )

    # Compatibility fields: the names Membrane's SDK reads for the same values.
    @computed_field(description="Compatibility alias of `customerId`.")  # type: ignore[prop-decorator]
    @property
    def user_id(self) -> str:
        return self.customer_id

    @computed_field(description="Compatibility: true when `state` is `disconnected`.")  # type: ignore[prop-decorator]
    @property
    def disconnected(self) -> bool:
        return self.state == "disconnected"


class ConnectionTestResult(PublicModel):
    success: bool
    state: str
    error: dict[str, Any] | None = None
