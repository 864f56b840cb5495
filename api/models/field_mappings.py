"""Bodies of running a field mapping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models import ApiModel, PublicModel


class FieldMappingRun(ApiModel):
    connection_id: str
    direction: Literal["import", "export"]
    input: dict[str, Any] = Field(default_factory=dict)


class FieldMappingRunResult(PublicModel):
    output: Any = Field(None, description="The mapped record.")
