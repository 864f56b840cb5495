"""The connector catalog: what each built-in connector offers, and every request it can make.

`python -m connectors.catalog --write` regenerates the README table between the
`<!-- connectors:start -->` and `<!-- connectors:end -->` markers; `--check` exits 1 with a
diff when the table is stale. `dry_run(spec)` renders every request a connector can make (auth
test requests, operations, collection methods with their pagination, webhook subscriptions)
against a connection filled with sample values, so checks need no network and no credentials.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.components import load_components
from connectors.runtime.mapping import RenderedRequest, render_mapping
from connectors.runtime.operations import pagination_for
from connectors.runtime.pagination import prepare
from connectors.runtime.templates import render, render_value
from connectors.spec import (
    COLLECTION_METHODS,
    AuthOption,
    ConnectorSpec,
    CursorPagination,
    DataCollection,
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
from core.formulas import LocatorError, parse_locator

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- connectors:start -->", "<!-- connectors:end -->"
METHOD_LETTERS = {
    "list": "L",
    "find_by_id": "F",
    "match": "M",
    "search": "S",
    "create": "C",
    "update": "U",
    "delete": "D",
}
SAMPLE_FORMATS = {
    "email": "ada@example.com",
    "uri": "https://sample.example.com",
    "url": "https://sample.example.com",
    "hostname": "sample.example.com",
    "date-time": "2024-05-01T10:20:30Z",
    "date": "2024-05-01",
    "time": "10:20:30",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
}
SAMPLE_ID = "sample-id"
# The `webhook` variable of `subscribe`/`unsubscribe` mappings: where the app must send events,
# the app's id of the registered webhook, and a secret Osmo generated for it.
SAMPLE_WEBHOOK = {
    "url": "https://osmo.example.com/webhooks/sample",
    "id": "sample-webhook-id",
    "secret": "sample-webhook-secret",
}
# Unformatted strings whose names say what they hold (`siteUrl`, `dueDate`, `due_on`, `ownerId`).
_NAMED_SAMPLES = [
    (("url", "uri"), SAMPLE_FORMATS["url"]),
    (("date", "_on"), SAMPLE_FORMATS["date"]),
    (("time", "_at"), SAMPLE_FORMATS["date-time"]),
    (("id",), "12345"),
]
_INTEGRATION_PARAMETER = re.compile(r"integration\.parameters\.([A-Za-z0-9_\-]+)")
_TPL_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")
_VARIANT = re.compile(r" \(only required [a-z]+\)")
_ITERATE_VARIABLES = frozenset({"item", "index", "parent"})

# -- sample values ----------------------------------------------------------------------------


def sample_value(schema: Any, name: str = "value", *, required_only: bool = False) -> Any:
    """A value that fits a JSON schema: examples and defaults first, else one made up by type.

    Args:
        name: The property's name; strings name themselves (`sample-subdomain`) unless the
            name says what they hold (`siteUrl`, `dueDate`, `created_at`, `ownerId`).
        required_only: Objects get only their required properties (what the least complete
            valid input has).
    """
    if not isinstance(schema, dict):
        return f"sample-{name}"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        variants = [v for v in schema.get(key, []) if v.get("type") != "null"]
        if variants:
            return sample_value(variants[0], name, required_only=required_only)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        required = set(schema.get("required", []))
        return {
            key: sample_value(sub, key, required_only=required_only)
            for key, sub in schema.get("properties", {}).items()
            if key in required or not required_only
        }
    if kind == "array":
        return [sample_value(schema.get("items", {}), name, required_only=required_only)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _sample_string(schema, name)


def _sample_string(schema: dict[str, Any], name: str) -> str:
    text = SAMPLE_FORMATS.get(schema.get("format", ""), f"sample-{name}")
    if "format" not in schema:
        lowered = name.lower()
        text = next((value for ends, value in _NAMED_SAMPLES if lowered.endswith(ends)), text)
    text = text.ljust(schema.get("minLength", 0), "x")
    return text[: schema["maxLength"]] if "maxLength" in schema else text


def sample_credentials(option: AuthOption) -> dict[str, Any]:
    """Tokens a connected connection of this auth option holds."""
    names = ["access_token", "refresh_token"]
    if isinstance(option, OAuth1Option):
        names += ["oauth_token", "oauth_token_secret"]
    if isinstance(option, OAuth2Option | OAuth2ClientCredentialsOption):
        names += list(option.token_values)
    return {name: sample_value({"type": "string"}, name) for name in names}


def integration_parameters(spec: ConnectorSpec) -> dict[str, Any]:
    """Sample values for every `integration.parameters.x` the connector refers to."""
    names = sorted(set(_INTEGRATION_PARAMETER.findall(spec.model_dump_json(by_alias=True))))
    return {name: sample_value({"type": "string"}, name) for name in names}


def sample_context(
    spec: ConnectorSpec,
    option: AuthOption,
    *,
    required_only: bool = False,
    connected: bool = True,
) -> ConnectionContext:
    """A connection of `option` with sample inputs (all, or only the required ones).

    Args:
        connected: False for the connect flow before the token exchange (no credentials yet).
    """
    return ConnectionContext(
        connector=spec,
        auth=option,
        customer_id="sample-customer",
        integration_key=spec.key,
        client_id="sample-client-id",
        client_secret="sample-client-secret",
        integration_parameters=integration_parameters(spec),
        scopes=[],
        inputs=sample_value(option.input_schema or {}, required_only=required_only) or {},
        credentials=sample_credentials(option) if connected else {},
        credentials_version=1,
        connection_id="sample-connection",
    )


def unread_variables(value: Any, available: Iterable[str]) -> list[str]:
    """Locators in `$var`/`$tpl` formulas whose first step is none of `available`.

    Such a locator always evaluates to undefined, so its parameter silently disappears from
    the request (a typo like `inputs.x` for `input.x`, or a variable the runtime never sets).
    """
    names = frozenset(available)
    if isinstance(value, list):
        return [bad for item in value for bad in unread_variables(item, names)]
    if not isinstance(value, dict):
        return []
    if len(value) == 1 and next(iter(value)).startswith("$"):
        name, arg = next(iter(value.items()))
        locators = []
        if name == "$var" and isinstance(arg, str):
            locators = [arg]
        elif name == "$tpl" and isinstance(arg, str):
            locators = _TPL_PLACEHOLDER.findall(arg)
        elif name == "$plain":
            return []
        elif name == "$iterate" and isinstance(arg, dict):
            inner = names | _ITERATE_VARIABLES
            return unread_variables(arg.get("source"), names) + unread_variables(
                arg.get("item"), inner
            )
        unread = [loc for loc in locators if _root(loc) not in names and _root(loc) != ""]
        return unread + unread_variables(arg, names)
    return [bad for item in value.values() for bad in unread_variables(item, names)]


def _root(locator: str) -> Any:
    try:
        steps = parse_locator(locator.strip())
    except LocatorError:
        return None
    return steps[0] if steps else ""


# -- dry run ----------------------------------------------------------------------------------


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


def collection_methods(collection: DataCollection) -> list[str]:
    """The methods a collection declares, in `COLLECTION_METHODS` order."""
    return [name for name in COLLECTION_METHODS if collection.method(name) is not None]


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
            for name in collection_methods(collection):
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
                for step in ("subscribe", "unsubscribe"):
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
        for locator in unread_variables(formulas, variables):
            self.result.report(source, f"reads {locator!r}, but only {sorted(variables)} exist")

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


# -- the README table -------------------------------------------------------------------------


def _events(spec: ConnectorSpec) -> str:
    kinds: dict[str, int] = {"webhook": 0, "polling": 0}
    for collection in spec.data_collections:
        for _, source in collection.events:
            if source is not None:
                kinds["webhook" if isinstance(source, WebhookEvents) else "polling"] += 1
    return ", ".join(f"{count} {kind}" for kind, count in kinds.items() if count) or "—"


def _auth_cell(spec: ConnectorSpec) -> str:
    types = [option.type for option in spec.auth]
    counted = {kind: types.count(kind) for kind in types}
    return ", ".join(kind if n == 1 else f"{kind} x{n}" for kind, n in counted.items())


def _collections_cell(spec: ConnectorSpec) -> str:
    return (
        ", ".join(
            f"{c.key} ({''.join(METHOD_LETTERS[m] for m in collection_methods(c))})"
            for c in spec.data_collections
        )
        or "—"
    )


def connectors_table(specs: Iterable[ConnectorSpec]) -> str:
    """The Markdown table of connectors (one row per connector, sorted by key)."""
    rows = [
        "| Connector | Auth options | Operations | Data collections | Events | Unified models |",
        "|---|---|---|---|---|---|",
    ]
    for spec in sorted(specs, key=lambda s: s.key):
        name = f"[{spec.name}]({spec.docs_url})" if spec.docs_url else spec.name
        models = sorted({c.udm.model for c in spec.data_collections if c.udm})
        cells = [
            f"{name} `{spec.key}`",
            _auth_cell(spec),
            str(len(spec.operations)),
            _collections_cell(spec),
            _events(spec),
            ", ".join(models) or "—",
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    legend = ", ".join(f"{letter} {name}" for name, letter in METHOD_LETTERS.items())
    return "\n".join(
        [
            *rows,
            "",
            f"Methods: {legend}. Events: how many event types (created, updated, deleted of a "
            "collection) arrive by webhook and by polling.",
        ]
    )


def with_table(readme: str, table: str) -> str:
    """`readme` with `table` between the connectors markers."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {START} ... {END} section")
    return f"{readme[: start + len(START)]}\n{table}\n{readme[end:]}"


def readme_diff(readme: Path = README, specs: Iterable[ConnectorSpec] | None = None) -> str:
    """A unified diff from the README to what it should say; empty when it is current."""
    current = readme.read_text()
    specs = ConnectorRegistry().all() if specs is None else specs
    wanted = with_table(current, connectors_table(specs))
    lines = difflib.unified_diff(
        current.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        f"{readme.name} (current)",
        f"{readme.name} (generated)",
    )
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The README table of built-in connectors.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the README table")
    action.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    if args.write:
        current = README.read_text()
        README.write_text(with_table(current, connectors_table(ConnectorRegistry().all())))
        return 0
    diff = readme_diff()
    if diff:
        print(f"The connectors table in README.md is stale; run `make connectors-table`.\n{diff}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
