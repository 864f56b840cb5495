from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, computed_field

from api.models import ApiModel, PublicModel


class CustomerBase(ApiModel):
    name: str | None = Field(default=None, max_length=255)
    fields: dict[str, Any] = Field(default_factory=dict)


class CustomerCreate(CustomerBase):
    tenant_key: str = Field(min_length=1, max_length=255)


class CustomerUpdate(ApiModel):
    name: str | None = Field(default=None, max_length=255)
    # Not nullable: the column is not, and `null` would otherwise fail at the database.
    fields: dict[str, Any] = Field(default_factory=dict)


class CustomerPublic(PublicModel, CustomerBase):
    id: str
    tenant_key: str
    created_at: datetime
    updated_at: datetime

    @computed_field(description="Compatibility alias of `tenantKey` (Membrane's name).")  # type: ignore[prop-decorator]
    @property
    def internal_id(self) -> str:
        return self.tenant_key
