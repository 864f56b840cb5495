"""`api-request-to-your-app`: a request to the product's own API as the run's customer.

Config: `method` (default GET), `path` (appended to `OSMO_APP_API_URL`), `headers`, `query`,
`body` — formulas over the node's variables. Output `{status, headers, body}`.

The activity sends `Authorization: Bearer <JWT>`: a five-minute token for the run's customer
(`tenantKey`) signed with the workspace secret, which the product verifies with that secret.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.custom_http_request import request_parts
from workflows.nodes.errors import node_error

with workflow.unsafe.imports_passed_through():
    from activities.http import AppRequestInput, HttpActivities


class ApiRequestToYourApp(NodeType):
    type = "api-request-to-your-app"

    async def run(self, ctx: NodeContext) -> list[Any]:
        tenant_key = (ctx.variables.get("customer") or {}).get("tenantKey")
        if not tenant_key:
            raise node_error(
                "customer_required", f"{self.type} needs the run's customer (tenantKey)"
            )
        config = ctx.config
        method = config.get("method", "GET")
        path = str(ctx.evaluate(config["path"]))
        ctx.summary = f"{method} {path.split('?')[0]}"
        output = await ctx.activity(
            HttpActivities.app_api_request,
            AppRequestInput(tenant_key=tenant_key, method=method, path=path, **request_parts(ctx)),
            local=True,  # one bounded request: a local activity (NodeContext.activity)
        )
        return [asdict(output)]
