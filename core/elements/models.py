"""Tables of configurable elements and of data links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.models import new_id, utcnow
from core.timestamps import UtcDateTime

UNIVERSAL = "universal"


def scope_of(
    integration_id: str | None, connection_id: str | None, instance_key: str | None
) -> str:
    """One string per layer so (kind, key, scope) is unique on every database."""
    if connection_id:
        return f"connection:{connection_id}:{instance_key or ''}"
    if integration_id:
        return f"integration:{integration_id}"
    return UNIVERSAL


class Element(SQLModel, table=True):
    """A configurable building block at one layer: universal, integration or connection."""

    __tablename__ = "elements"
    __table_args__ = (UniqueConstraint("kind", "key", "scope", name="uq_elements_kind_key_scope"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    key: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=255)
    scope: str = Field(max_length=200, index=True)
    integration_id: str | None = Field(default=None, foreign_key="integrations.id", index=True)
    connection_id: str | None = Field(default=None, foreign_key="connections.id", index=True)
    instance_key: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, foreign_key="elements.id")
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The parent's resolved value of each key `definition` shadows, as it was when the key was
    # first customized: what a three-way merge starts from. A shadowed key missing here was not
    # in the parent then; NULL means nothing was recorded (no parent, or customized before 0004).
    base: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    is_customized: bool = Field(default=False)
    revision: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class DataLink(SQLModel, table=True):
    """A pair of ids: a record in the product ↔ a record in the external app, per connection."""

    __tablename__ = "data_links"
    __table_args__ = (
        UniqueConstraint(
            "connection_id", "table_key", "app_record_id", "external_record_id",
            name="uq_data_links_pair",
        ),
        Index("ix_data_links_app", "connection_id", "table_key", "app_record_id"),
        Index("ix_data_links_external", "connection_id", "table_key", "external_record_id"),
        # One link per app record where links go out from the app (export / both) ...
        Index(
            "uq_data_links_app_side", "connection_id", "table_key", "app_record_id",
            unique=True,
            sqlite_where=text("direction IN ('export', 'both')"),
            postgresql_where=text("direction IN ('export', 'both')"),
        ),
        # ... and one per external record where they come in (import / both).
        Index(
            "uq_data_links_external_side", "connection_id", "table_key", "external_record_id",
            unique=True,
            sqlite_where=text("direction IN ('import', 'both')"),
            postgresql_where=text("direction IN ('import', 'both')"),
        ),
    )  # fmt: skip

    id: str = Field(default_factory=new_id, primary_key=True)
    connection_id: str = Field(foreign_key="connections.id")
    table_key: str = Field(max_length=100)
    app_record_id: str = Field(max_length=255)
    external_record_id: str = Field(max_length=255)
    direction: str = Field(default="both", max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


__all__ = ["UNIVERSAL", "DataLink", "Element", "scope_of"]
