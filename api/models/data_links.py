"""Bodies of data links: pairs of a product record id and an external record id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.models import ApiModel, PublicModel

Direction = Literal["import", "export", "both"]


class DataLinkBase(ApiModel):
    app_record_id: str
    external_record_id: str
    direction: Direction = "both"


class DataLinkCreate(DataLinkBase):
    pass


class DataLinkPublic(PublicModel, DataLinkBase):
    id: str
    connection_id: str
    data_link_table_key: str = Field(validation_alias="table_key")
    created_at: datetime


class DataLinkList(PublicModel):
    items: list[DataLinkPublic]
    cursor: str | None = None
