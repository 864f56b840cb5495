"""`custom-http-request`: a request to any URL, outside any connection.

Config: `method` (default GET), `url`, `headers`, `query`, `body` — formulas over the node's
variables. Output `{status, headers, body}`. Only public addresses are reachable unless the
deployment sets `OSMO_ALLOW_PRIVATE_HTTP`; otherwise the node fails with `address_not_allowed`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from activities.http import HttpActivities, HttpRequestInput


def text_values(value: Any) -> dict[str, str]:
    """An evaluated `headers` / `query` object as strings (None drops the entry)."""
    return {str(k): str(v) for k, v in (value or {}).items() if v is not None}


def request_parts(ctx: NodeContext) -> dict[str, Any]:
    """`query`, `headers` and `json` from the node's config, and the run's customer and
    connection, whom the request is logged under."""
    config = ctx.config
    return {
        "query": text_values(ctx.evaluate(config.get("query"))),
        "headers": text_values(ctx.evaluate(config.get("headers"))),
        "json": ctx.evaluate(config.get("body")),
        "customer_id": (ctx.variables.get("customer") or {}).get("id"),
        "connection_id": ctx.connection_id,
    }


class CustomHttpRequest(NodeType):
    type = "custom-http-request"

    async def run(self, ctx: NodeContext) -> list[Any]:
        config = ctx.config
        method = config.get("method", "GET")
        url = str(ctx.evaluate(config["url"]))
        ctx.summary = f"{method} {url.split('?')[0]}"
        output = await ctx.activity(
            HttpActivities.custom_http_request,
            HttpRequestInput(method=method, url=url, **request_parts(ctx)),
            local=True,  # one bounded request: a local activity (NodeContext.activity)
        )
        return [asdict(output)]
