"""Base of the connector spec: closed models and templated requests."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class SpecModel(BaseModel):
    """Base of every spec model: closed, camelCase in YAML, snake_case in Python."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class RequestSpec(SpecModel):
    """A templated HTTP request against the connector's API."""

    method: HttpMethod = Field("GET", description="HTTP method.")
    path: str = Field(description="Path relative to `api.baseUrl`, or an absolute URL.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers to add (values are templates)."
    )
    query: dict[str, str] = Field(
        default_factory=dict, description="Query parameters (values are templates)."
    )
    json_body: Any = Field(default=None, alias="json", description="JSON body (templated).")
    form: dict[str, str] | None = Field(default=None, description="Form-encoded body.")
