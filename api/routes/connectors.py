"""The connectors this deployment knows (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CallerDep, ServicesDep
from connectors.spec import ConnectorSpec
from core.errors import not_found

router = APIRouter(prefix="/connectors", tags=["connectors"])


def _summary(spec: ConnectorSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": spec.name,
        "version": spec.version,
        "categories": spec.categories,
        "logoUrl": spec.logo_url,
        "docsUrl": spec.docs_url,
        "authOptions": [
            {"key": o.key, "type": o.type, "name": o.name or o.key, "inputSchema": o.input_schema}
            for o in spec.auth
        ],
    }


@router.get("/schema")
def connector_schema() -> dict[str, Any]:
    """JSON Schema of `connector.yaml`, generated from the spec models."""
    return ConnectorSpec.model_json_schema(by_alias=True)


@router.get("")
def list_connectors(_: CallerDep, services: ServicesDep) -> dict[str, Any]:
    return {"items": [_summary(spec) for spec in services.registry.all()], "cursor": None}


@router.get("/{key}")
def read_connector(_: CallerDep, services: ServicesDep, key: str) -> dict[str, Any]:
    spec = services.registry.get(key)
    if spec is None:
        raise not_found("connector", key)
    return {
        **_summary(spec),
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
