"""Bodies of the connector catalogue and the connector builder."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.models import PublicModel


class AuthOptionSummary(PublicModel):
    key: str
    type: str
    name: str
    input_schema: dict[str, Any] | None = None


class ConnectorSummary(PublicModel):
    key: str
    name: str
    version: str | None = None
    categories: list[str] = Field(default_factory=list)
    logo_url: str | None = None
    docs_url: str | None = None
    auth_options: list[AuthOptionSummary] = Field(default_factory=list)


class ConnectorList(PublicModel):
    items: list[ConnectorSummary]
    cursor: str | None = None


class ConnectorPublic(ConnectorSummary):
    spec: dict[str, Any] = Field(description="The whole `connector.yaml`, as JSON.")


class ImportOpenApi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Key of the new connector, e.g. `my-app`.")
    name: str | None = Field(None, description="Default: the description's `info.title`.")
    document: dict[str, Any] = Field(description="The OpenAPI 3.x (or Swagger 2.0) description.")


class SkippedOperation(PublicModel):
    method: str
    path: str
    reason: str


class ImportedConnector(PublicModel):
    connector: dict[str, Any] = Field(description="The generated spec, as JSON.")
    yaml: str = Field(description="The same spec as `connector.yaml` text.")
    operations: int
    skipped: list[SkippedOperation]
    notes: list[str]
