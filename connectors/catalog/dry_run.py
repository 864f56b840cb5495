"""Dry run: every request a connector can make, rendered with sample values, nothing sent.

Sources name where a request comes from (auth test requests, operations, collection methods
with their pagination, webhook subscriptions), so a check that fails says which one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from connectors.catalog.samples import SAMPLE_ID, SAMPLE_WEBHOOK, sample_context, sample_value
from connectors.catalog.variables import unread_variables
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.components import load_components
from connectors.runtime.mapping import RenderedRequest, render_mapping
from connectors.runtime.operations import pagination_for
from connectors.runtime.pagination import prepare
from connectors.runtime.templates import render, render_value
from connectors.spec import (
    AuthOption,
    ConnectorSpec,
    CursorPagination,
    HttpMapping,
    NoPagination,
    OAuth1Option,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
    WebhookEvents,
)

_VARIANT = re.compile(r" \(only required [a-z]+\)")


@dataclass(frozen=True)
class PlannedRequest:
    """One request the connector can make, rendered with sample values."""

    source: str
    auth_key: str
    request: httpx.Request


@dataclass
class DryRun:
    """Every request a connector can make, and why the ones that could not be built failed.

    Sources name where a request comes from: `auth oauth2 test`, `operation create-task`,
    `collection tasks.list (next page)`, `webhook tasks.created subscribe`; each problem starts
    with its source.
    """

    requests: list[PlannedRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problems_of(self, kind: str) -> list[str]:
        """Problems of one kind: `auth`, `components`, `operation`, `collection`, `webhook`."""
        return [p for p in self.problems if p.startswith(f"{kind} ")]

    def report(self, source: str, message: str) -> None:
        """Records a problem, unless the same one was found with every input already."""
        everything = _VARIANT.sub("", source)
        if f"{everything}: {message}" not in self.problems:
            self.problems.append(f"{source}: {message}")

    def attempt(self, source: str, step: Callable[[], Any]) -> Any:
        """Runs `step`; a failure is reported under `source` and gives None."""
        try:
            return step()
        except Exception as exc:
            self.report(source, f"{type(exc).__name__}: {exc}")
            return None


def dry_run(spec: ConnectorSpec) -> DryRun:
    """Renders every request `spec` can make, for each auth option, with sample values.

    Inputs come in two variants: every property, and only the required ones (a template that
    reads an optional value fails for customers who leave it out). Nothing is sent.
    """
    return _DryRunner(spec).run()


class _Only(ConnectorRegistry):
    """A registry of the one connector being dry-run (`build_request` never looks it up)."""

    def __init__(self, spec: ConnectorSpec) -> None:
        self._specs = {spec.key: spec}


def _next_state(pagination: Pagination | None) -> Any:
    """The position of a second page, where the connector builds it (not a vendor's URL)."""
    if isinstance(pagination, CursorPagination):
        return "sample-cursor"
    if isinstance(pagination, OffsetPagination):
        return pagination.start + (pagination.page_size or 100)
    if isinstance(pagination, PageNumberPagination):
        return pagination.start_page + 1
    return None


def _connect_urls(option: AuthOption) -> dict[str, Any]:
    """Templates the connect flow renders before there are any credentials."""
    if isinstance(option, OAuth2Option):
        return {
            "authorizeUrl": option.authorize_url,
            "authorizeParams": dict(option.authorize_params),
            "tokenUrl": option.token_url,
        }
    if isinstance(option, OAuth2ClientCredentialsOption):
        return {"tokenUrl": option.token_url}
    if isinstance(option, OAuth1Option):
        return {
            "requestTokenUrl": option.request_token_url,
            "authorizeUrl": option.authorize_url,
            "accessTokenUrl": option.access_token_url,
        }
    return {}


class _DryRunner:
    """Walks a spec the way the runtime would run it, building requests instead of sending."""

    def __init__(self, spec: ConnectorSpec) -> None:
        self.spec = spec
        self.result = DryRun()
        self.runtime = ConnectorRuntime(_Only(spec), None, MemoryApiLogSink())
        self.hooks = self.result.attempt(
            f"components {spec.components}", lambda: load_components(spec.components)
        )

    def run(self) -> DryRun:
        for option in self.spec.auth:
            ctx = sample_context(self.spec, option)
            base_url_renders = self.auth(option, required_only=False)
            self.auth(option, required_only=True)
            if not base_url_renders:
                continue  # Every request would fail the same way; the auth problem says why.
            for required_only in (False, True):
                self.operations(ctx, required_only)
                self.collections(ctx, required_only)
        return self.result

    def auth(self, option: AuthOption, required_only: bool) -> bool:
        """Checks the option's templates and plans its test; False if the base URL fails."""
        api, attempt = self.spec.api, self.result.attempt
        ctx = sample_context(self.spec, option, required_only=required_only)
        source = f"auth {option.key}" + (" (only required inputs)" if required_only else "")
        template = ctx.template_context()
        base_url = attempt(f"{source} api.baseUrl", partial(render, api.base_url, template))
        attempt(f"{source} api", partial(render_value, [api.headers, api.query], template))
        if option.apply is not None:
            apply = option.apply.model_dump(exclude_none=True)
            attempt(f"{source} apply", partial(render_value, apply, template))
        connecting = {**template, "credentials": {}}
        for name, value in _connect_urls(option).items():
            attempt(f"{source} {name}", partial(render_value, value, connecting))
        if isinstance(option, OAuth2Option) and option.revoke is not None:
            attempt(f"{source} revoke.url", partial(render, option.revoke.url, template))
        test = option.test
        if test is not None:
            # As `ConnectorRuntime.run_request_spec` sends it: the path is not rendered.
            rendered = attempt(
                f"{source} test",
                lambda: RenderedRequest(
                    method=test.method,
                    path=test.path,
                    params=render_value(dict(test.query), template),
                    headers=render_value(dict(test.headers), template),
                    json=render_value(test.json_body, template),
                    data=render_value(test.form, template) if test.form else None,
                ),
            )
            if rendered is not None and base_url is not None:
                self.plan(f"{source} test", ctx, rendered)
        return base_url is not None

    def operations(self, ctx: ConnectionContext, required_only: bool) -> None:
        label = " (only required input)" if required_only else ""
        for operation in self.spec.operations:
            sample = sample_value(operation.input_schema, required_only=required_only)
            source = f"operation {operation.key}{label}"
            self.mapping(source, ctx, operation.request, {"input": sample}, operation.paginate)

    def collections(self, ctx: ConnectionContext, required_only: bool) -> None:
        label = " (only required parameters)" if required_only else ""
        for collection in self.spec.data_collections:
            schema = collection.parameters_schema or {}
            parameters = sample_value(schema, required_only=required_only) or {}
            fields = sample_value(collection.fields_schema, "field")
            variables = {"parameters": parameters, "id": SAMPLE_ID, "fields": fields}
            variables["query"] = fields
            for name in collection.supported_methods():
                method = collection.method(name)
                assert method is not None
                mapping = method.request
                if name not in ("list", "search") and mapping.pagination is None:
                    # As `run_method` does: only lists and searches page by default.
                    mapping = mapping.model_copy(update={"pagination": NoPagination(type="none")})
                source = f"collection {collection.key}.{name}{label}"
                self.mapping(source, ctx, mapping, variables, paginated=True)
            for event_type, events in collection.events:
                if not isinstance(events, WebhookEvents):
                    continue
                hook = {"parameters": parameters, "webhook": SAMPLE_WEBHOOK}
                for step in ("subscribe", "refresh", "unsubscribe"):
                    mapping = getattr(events, step)
                    if mapping is not None:
                        source = f"webhook {collection.key}.{event_type} {step}{label}"
                        self.mapping(source, ctx, mapping, hook, paginated=False)

    def mapping(
        self,
        source: str,
        ctx: ConnectionContext,
        mapping: HttpMapping,
        variables: dict[str, Any],
        paginated: bool,
    ) -> None:
        formulas = [mapping.query, mapping.headers, mapping.body]
        # A template's formulas also read the `args` its `with` values become.
        available = [*variables, "args"] if mapping.with_ else list(variables)
        unread = unread_variables(mapping.with_, variables) + unread_variables(formulas, available)
        for locator in unread:
            self.result.report(source, f"reads {locator!r}, but only {sorted(available)} exist")

        def rendered() -> RenderedRequest:
            request = render_mapping(mapping, variables)
            return self.hooks.prepare_request(request, variables) if self.hooks else request

        request = self.result.attempt(source, rendered)
        if request is None:
            return
        if not paginated:
            self.plan(source, ctx, request)
            return
        pagination = pagination_for(ctx, mapping)
        self.plan(source, ctx, prepare(copy.deepcopy(request), pagination, None))
        state = _next_state(pagination)
        if state is not None:
            self.plan(f"{source} (next page)", ctx, prepare(request, pagination, state))

    def plan(self, source: str, ctx: ConnectionContext, rendered: RenderedRequest) -> None:
        build = self.runtime.build_request
        request = self.result.attempt(
            source, lambda: build(ctx, rendered.method, rendered.path, **rendered.kwargs())
        )
        if request is None:
            return
        url = str(request.url)
        if request.url.scheme != "https" or not request.url.host:
            self.result.report(source, f"{url} is not an absolute https URL")
        elif "{{" in url or "%7B%7B" in url:
            self.result.report(source, f"{url} has an unrendered template")
        else:
            self.result.requests.append(PlannedRequest(source, ctx.auth.key, request))
