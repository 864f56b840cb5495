"""The connectors this deployment knows (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CallerDep, ServicesDep
from api.models.connectors import (
    AuthOptionSummary,
    ConnectorList,
    ConnectorPublic,
    ConnectorSummary,
)
from api.models.errors import errors
from connectors.spec import ConnectorSpec
from core.errors import not_found

router = APIRouter(prefix="/connectors", tags=["connectors"])


def _summary(spec: ConnectorSpec) -> ConnectorSummary:
    return ConnectorSummary(
        key=spec.key,
        name=spec.name,
        version=spec.version,
        categories=spec.categories,
        logo_url=spec.logo_url,
        docs_url=spec.docs_url,
        auth_options=[
            AuthOptionSummary(
                key=o.key, type=o.type, name=o.name or o.key, input_schema=o.input_schema
            )
            for o in spec.auth
        ],
    )


@router.get("/schema")
def connector_schema() -> dict[str, Any]:
    """JSON Schema of `connector.yaml`, generated from the spec models (a schema: any object)."""
    return ConnectorSpec.model_json_schema(by_alias=True)


@router.get("", responses=errors())
def list_connectors(_: CallerDep, services: ServicesDep) -> ConnectorList:
    return ConnectorList(items=[_summary(spec) for spec in services.registry.all()])


@router.get("/{key}", responses=errors(404))
def read_connector(_: CallerDep, services: ServicesDep, key: str) -> ConnectorPublic:
    spec = services.registry.get(key)
    if spec is None:
        raise not_found("connector", key)
    return ConnectorPublic(
        **_summary(spec).model_dump(),
        spec=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    )
