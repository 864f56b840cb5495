"""Element routes, one set per kind, following one pattern at three layers:

    GET/POST /{kind}                     GET/PATCH/DELETE /{kind}/{selector}
    GET/POST /integrations/{key}/{kind}  GET/PATCH/DELETE /integrations/{key}/{kind}/{elementKey}
    GET/PATCH/DELETE /connections/{id}/{kind}/{elementKey}   (instances, created on first use)
    POST …/reset                          (drop customizations, follow the parent again)
    POST …/update-to-latest               (take the parent's newer version, keep customizations)

Bodies are the definition's fields plus `key`, `name`, `integrationKey` (create) and
`revision` (update); each kind has its own models (`FlowCreate`, `FlowPublic`, ...).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.models.elements import models_for
from api.routes.elements.connection import connection_routes
from api.routes.elements.integration import integration_routes
from api.routes.elements.universal import universal_routes
from core.elements.kinds import KINDS


def element_router(kind: str) -> APIRouter:
    """All routes of one element kind."""
    router = APIRouter(tags=[kind])
    models = models_for(KINDS[kind])
    universal_routes(router, kind, models)
    integration_routes(router, kind, models)
    connection_routes(router, kind, models)
    return router
