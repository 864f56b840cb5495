"""Runs a connector operation: validate input, render the request, paginate, map the output."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from connectors.runtime.bodies import response_body
from connectors.runtime.components import load_components
from connectors.runtime.context import ConnectionContext
from connectors.runtime.mapping import RenderedRequest, evaluate_spec, render_mapping
from connectors.runtime.pagination import Page, prepare, read_page
from connectors.spec import HttpMapping, NoPagination, Operation, Pagination
from core.errors import OsmoError, validation_error
from core.formulas import UNDEFINED

if TYPE_CHECKING:
    from connectors.runtime.client import ConnectorRuntime

MAX_ITEMS = 1000


def input_problems(schema: dict[str, Any], value: Any, root: str = "input") -> list[dict[str, str]]:
    """Problems of `value` against a JSON schema, each with the path of the bad field."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for error in validator.iter_errors(value):
        path = root + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        if error.validator == "required" and "'" in error.message:
            path, message = f"{path}.{error.message.split(chr(39))[1]}", "is required"
        else:
            message = error.message
        problems.append({"path": path, "message": message})
    return sorted(problems, key=lambda p: p["path"])


def find_operation(ctx: ConnectionContext, key: str) -> Operation:
    operation = ctx.connector.operation(key)
    if operation is None:
        raise OsmoError(
            "not_found",
            "operation_not_found",
            f"Connector {ctx.connector.key!r} has no operation {key!r}",
            status=404,
        )
    return operation


def pagination_for(ctx: ConnectionContext, mapping: HttpMapping) -> Pagination | None:
    chosen = mapping.pagination or ctx.connector.api.pagination
    return None if isinstance(chosen, NoPagination) else chosen


def with_idempotency(
    ctx: ConnectionContext, request: RenderedRequest, key: str | None
) -> RenderedRequest:
    """Adds the app's idempotency header to writes (a stable key makes retries safe)."""
    header = ctx.connector.api.idempotency_header
    if header and request.method != "GET" and header not in request.headers:
        request.headers[header] = key or uuid.uuid4().hex
    return request


async def fetch_page(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    mapping: HttpMapping,
    variables: dict[str, Any],
    state: Any = None,
    records_path: str | None = None,
    idempotency_key: str | None = None,
) -> Page:
    """One page of a (possibly paginated) request."""
    pagination = pagination_for(ctx, mapping)
    hooks = load_components(ctx.connector.components)
    request: RenderedRequest = hooks.prepare_request(render_mapping(mapping, variables), variables)
    request = with_idempotency(ctx, prepare(request, pagination, state), idempotency_key)
    # A next-page URL from a response stays on the app's API: `runtime.request` refuses others.
    response = await runtime.request(ctx, request.method, request.path, **request.kwargs())
    page = read_page(response, pagination, state, records_path)
    custom = hooks.records(page.body, records_path)
    if custom is not None:
        page.items = custom
    return page


async def run_operation(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    key: str,
    input: dict[str, Any],
    idempotency_key: str | None = None,
) -> Any:
    """Runs operation `key`; input failing the input schema is a 422 and nothing is sent."""
    operation = find_operation(ctx, key)
    problems = input_problems(operation.input_schema, input)
    if problems:
        raise validation_error(problems)
    variables = {"input": input}
    if operation.paginate:
        limit = int(input.get("maxItems") or MAX_ITEMS)
        items: list[Any] = []
        state = None
        while len(items) < limit:
            page = await fetch_page(runtime, ctx, operation.request, variables, state)
            items += page.items
            state = page.next
            if state is None:
                break
        body: Any = items[:limit]
    else:
        request = render_mapping(operation.request, variables)
        request = load_components(ctx.connector.components).prepare_request(request, variables)
        request = with_idempotency(ctx, request, idempotency_key)
        response = await runtime.request(ctx, request.method, request.path, **request.kwargs())
        body = response_body(response)
    if operation.output is None:
        return body
    result = evaluate_spec(operation.output, {"response": body, "input": input})
    return None if result is UNDEFINED else result
