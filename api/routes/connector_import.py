"""The connector builder over HTTP: a connector generated from an OpenAPI description."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep
from api.models.connectors import ImportedConnector, ImportOpenApi, SkippedOperation
from api.models.errors import errors
from connectors.openapi import build_connector, connector_yaml

router = APIRouter(prefix="/connectors", tags=["connectors"])


@router.post("/import-openapi", responses=errors())
def import_openapi(_: AdminDep, body: ImportOpenApi) -> ImportedConnector:
    """Generates a connector from an OpenAPI description and returns it (admins only).

    Nothing is written to disk and the registry does not change: save the returned `yaml` as
    `connectors/<key>/connector.yaml` (or run `osmo connectors import-openapi`) to install it.
    A malformed description is a 422 naming where (`document.paths./x.get.responses`).
    """
    result = build_connector(body.document, body.key, name=body.name, root="document")
    connector = result.connector
    return ImportedConnector(
        connector=connector.model_dump(mode="json", by_alias=True, exclude_none=True),
        yaml=connector_yaml(connector),
        operations=len(connector.operations),
        skipped=[
            SkippedOperation(method=s.method, path=s.path, reason=s.reason) for s in result.skipped
        ],
        notes=result.notes,
    )
