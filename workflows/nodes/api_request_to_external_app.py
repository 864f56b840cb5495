"""`api-request-to-external-app`: a raw request through the connection (auth, refresh, logs).

Its config is the customer's to customize, so `path` is relative to the connector's base URL
(an absolute URL only on that origin and path) and is never rendered as a template: the
runtime refuses anything else with `url_outside_api` before a request is sent.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from activities.connectors import ApiRequestInput, ConnectorActivities


class ApiRequestToExternalApp(NodeType):
    type = "api-request-to-external-app"

    async def run(self, ctx: NodeContext) -> list[Any]:
        connection_id = ctx.connection(self.type)
        config = ctx.config
        method = config.get("method", "GET")
        path = str(ctx.evaluate(config["path"]))
        ctx.summary = f"{method} {path}"
        output = await ctx.activity(
            ConnectorActivities.api_request,
            ApiRequestInput(
                connection_id=connection_id,
                method=method,
                path=path,
                query={k: str(v) for k, v in (ctx.evaluate(config.get("query")) or {}).items()},
                headers={k: str(v) for k, v in (ctx.evaluate(config.get("headers")) or {}).items()},
                json=ctx.evaluate(config.get("body")),
            ),
            local=True,  # one bounded request: a local activity (NodeContext.activity)
        )
        return [asdict(output)]
