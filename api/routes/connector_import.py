"""The connector builder over HTTP: a connector generated from an OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep
from connectors.openapi import build_connector, connector_yaml

router = APIRouter(prefix="/connectors", tags=["connectors"])


class ImportOpenApi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Key of the new connector, e.g. `my-app`.")
    name: str | None = Field(None, description="Default: the description's `info.title`.")
    document: dict[str, Any] = Field(description="The OpenAPI 3.x (or Swagger 2.0) description.")


@router.post("/import-openapi")
def import_openapi(_: AdminDep, body: ImportOpenApi) -> dict[str, Any]:
    """Generates a connector from an OpenAPI description and returns it (admins only).

    Nothing is written to disk and the registry does not change: save the returned `yaml` as
    `connectors/<key>/connector.yaml` (or run `osmo connectors import-openapi`) to install it.
    A malformed description is a 422 naming where (`document.paths./x.get.responses`).
    """
    result = build_connector(body.document, body.key, name=body.name, root="document")
    connector = result.connector
    return {
        "connector": connector.model_dump(mode="json", by_alias=True, exclude_none=True),
        "yaml": connector_yaml(connector),
        "operations": len(connector.operations),
        "skipped": [
            {"method": s.method, "path": s.path, "reason": s.reason} for s in result.skipped
        ],
        "notes": result.notes,
    }
