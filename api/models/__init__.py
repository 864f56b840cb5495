"""Request and response bodies of the API (camelCase on the wire, times in UTC with `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from pydantic.alias_generators import to_camel


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`; naive times are UTC (SQLite stores them without a zone)."""
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


class ApiModel(BaseModel):
    """Base of every API body: camelCase JSON, unknown fields refused, times with `Z`."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True
    )

    # Unannotated on purpose: a return annotation would replace each field's output schema.
    @field_serializer("*", mode="wrap", when_used="json")
    def _times_in_utc(self, value, handler):
        if isinstance(value, datetime):
            return iso_z(value)
        return handler(value)


class PublicModel(ApiModel):
    """Base of response bodies: built from table rows, so extra attributes are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", from_attributes=True
    )


class Health(PublicModel):
    status: str = Field(description="`ok` while the API serves requests.")
