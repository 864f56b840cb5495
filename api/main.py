"""The Osmo API: `uvicorn api.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI

from api.body_text import check_body_text
from api.errors import install_error_handlers
from api.middleware import install_limits
from api.middleware.responses import install_error_responses
from api.models import Health
from api.models.elements import element_request_models, models_for
from api.openapi import install_openapi, operation_id
from api.params import check_path_params
from api.routes import (
    actions,
    app_events,
    codec,
    compat,
    connect,
    connect_sessions,
    connections,
    connector_import,
    connectors,
    customers,
    data_links,
    event_logs,
    event_subscriptions,
    field_mappings,
    flow_runs,
    integrations,
    logs,
    oauth_callback,
    operations,
    proxy,
    webhooks,
)
from api.routes.elements import element_router
from api.services import Services
from core.elements.kinds import KINDS
from core.logging import install_redaction
from core.settings import Settings, get_settings


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Builds the app; services (database, connector runtime) start with it.

    Args:
        settings: Defaults to the environment's settings.
        services: Prebuilt services (tests); otherwise built at startup from `settings`.
        transport: httpx transport for calls to external apps (tests may pass ASGI apps).
    """
    settings = settings or get_settings()
    # uvicorn has configured its loggers by now; redaction applies to records, so it covers them.
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        built = Services.build(settings, transport=transport)
        app.state.services = built
        yield
        await built.aclose()

    app = FastAPI(
        title="Osmo",
        version="0.1.0",
        description="Universal integration layer: connections, connectors, flows.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Before any route's own code: no control characters in path parameters, no NUL in
        # JSON bodies.
        dependencies=[Depends(check_path_params), Depends(check_body_text)],
    )
    if services is not None:
        app.state.services = services
    install_error_handlers(app)
    install_limits(app, settings)
    # Webhooks first: Starlette tries routes in order, and the apps' deliveries are the
    # busiest route (matching ~200 routes before it was a sixth of the API's work per webhook).
    for module in (
        webhooks,
        customers,
        integrations,
        connections,
        proxy,
        connect,
        connect_sessions,
        oauth_callback,
        logs,
        connectors,
        connector_import,
        operations,
        field_mappings,
        data_links,
        flow_runs,
        actions,
        compat,
        codec,
        event_subscriptions,
        event_logs,
        app_events,
    ):
        app.include_router(module.router)
    for kind in KINDS:
        app.include_router(element_router(kind))
    install_openapi(
        app,
        (model for kind in KINDS.values() for model in element_request_models(models_for(kind))),
    )
    install_error_responses(app)  # wraps the OpenAPI install_openapi builds

    @app.get("/health", tags=["health"])
    async def health() -> Health:
        # On the event loop, not in the threadpool: it answers while every worker thread is
        # busy with database work.
        return Health(status="ok")

    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app lazily so importing this module has no side effects.
    if name == "app":
        return create_app()
    raise AttributeError(name)
