"""The connector catalog: every built-in connector loads, renders every request it can make,
covers enough of its app, maps to unified models correctly, and is listed in the README.

Requests are rendered by `connectors.catalog.dry_run` against a connection made of sample
values (inputs from each auth option's `inputSchema`, tokens, integration parameters), so a
template that reads something a connection will not have fails here, not in production.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors import catalog
from connectors.catalog import (
    SAMPLE_ID,
    SAMPLE_WEBHOOK,
    DryRun,
    PlannedRequest,
    connectors_table,
    dry_run,
    sample_context,
    sample_value,
    unread_variables,
    with_table,
)
from connectors.registry import BUILTIN, ConnectorLoadError, ConnectorRegistry, load_connector
from connectors.runtime.templates import placeholders, render
from connectors.spec import ConnectorSpec, DataCollection, WebhookEvents
from connectors.udm import UNIFIED_MODELS
from core.formulas import evaluate
from tests.conftest import DEMO_CONNECTORS, FAKE_CONNECTORS

KEYS = sorted(path.parent.name for path in BUILTIN.glob("*/connector.yaml"))
MIN_OPERATIONS, MIN_COLLECTIONS = 5, 3
REQUIRED_METHODS = ("list", "find_by_id")
# Vendors whose APIs have fewer than three record types that can be fetched by id.
FIND_BY_ID_EXCEPTIONS = {
    "airtable": "only records have a get-one endpoint; comments, tables and bases do not",
}


@cache
def _load(key: str) -> ConnectorSpec | ConnectorLoadError:
    try:
        return load_connector(BUILTIN / key / "connector.yaml")
    except ConnectorLoadError as exc:
        return exc


def connector(key: str) -> ConnectorSpec:
    spec = _load(key)
    if isinstance(spec, ConnectorLoadError):
        pytest.skip(f"{key} does not load (test_spec_loads[{key}] says why)")
    return spec


@cache
def planned(key: str) -> DryRun:
    return dry_run(connector(key))


def _problems(found: list[str]) -> str:
    return "\n".join(found)


def test_the_builtin_registry_loads() -> None:
    registry = ConnectorRegistry()
    assert [spec.key for spec in registry.all()] == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_spec_loads(key: str) -> None:
    spec = _load(key)
    assert not isinstance(spec, ConnectorLoadError), str(spec)
    assert spec.key == key, f"connectors/{key}/connector.yaml declares key {spec.key!r}"
    assert not planned(key).problems_of("components"), planned(key).problems_of("components")


@pytest.mark.parametrize("key", KEYS)
def test_auth_templates_render(key: str) -> None:
    """Base URL, authorize/token/revoke URLs, `apply` and the test request of every option."""
    problems = planned(key).problems_of("auth")
    assert not problems, _problems(problems)
    tested = {p.auth_key for p in planned(key).requests if p.source.startswith("auth ")}
    untested = [option.key for option in connector(key).auth if option.key not in tested]
    assert not untested, f"auth options without a test request: {untested}"


@pytest.mark.parametrize("key", KEYS)
def test_every_operation_renders_an_https_request(key: str) -> None:
    problems = planned(key).problems_of("operation")
    assert not problems, _problems(problems)
    operations = [p.source for p in planned(key).requests if p.source.startswith("operation ")]
    sources = {source.split(" ")[1] for source in operations}
    assert sources == {op.key for op in connector(key).operations}


@pytest.mark.parametrize("key", KEYS)
def test_every_collection_method_renders_an_https_request(key: str) -> None:
    problems = planned(key).problems_of("collection") + planned(key).problems_of("webhook")
    assert not problems, _problems(problems)


@pytest.mark.parametrize("key", KEYS)
def test_operations_and_collections_link_their_docs(key: str) -> None:
    spec = connector(key)
    things = [("operation", o.key, o.docs_url) for o in spec.operations] + [
        ("data collection", c.key, c.docs_url) for c in spec.data_collections
    ]
    missing = [
        f"{kind} {name}" for kind, name, url in things if not (url or "").startswith("https://")
    ]
    assert not missing, f"no https docsUrl: {missing}"


@pytest.mark.parametrize("key", KEYS)
def test_connector_covers_its_app(key: str) -> None:
    spec = connector(key)
    assert len(spec.operations) >= MIN_OPERATIONS, f"{len(spec.operations)} operations"
    assert len(spec.data_collections) >= MIN_COLLECTIONS, (
        f"{len(spec.data_collections)} collections"
    )
    # Every collection lists; at least three also find by id (some records, like Airtable's
    # tables or comments, have no get-one endpoint in the vendor's API).
    unlisted = [c.key for c in spec.data_collections if c.list is None]
    assert not unlisted, f"collections without list: {unlisted}"
    complete = [c.key for c in spec.data_collections if all(c.method(m) for m in REQUIRED_METHODS)]
    if key in FIND_BY_ID_EXCEPTIONS:
        return
    assert len(complete) >= MIN_COLLECTIONS, f"only {complete} have {REQUIRED_METHODS}"


def _sent(request: PlannedRequest) -> str:
    return str(request.request.url) + request.request.content.decode(errors="replace")


def _sample_strings(collection: DataCollection) -> list[str]:
    """Sample values of the writable string fields, to look for in what a write sends."""
    properties = collection.fields_schema.get("properties", {})
    samples = [
        sample_value(schema, name)
        for name, schema in properties.items()
        if not (isinstance(schema, dict) and schema.get("readOnly"))
    ]
    return [value for value in samples if isinstance(value, str) and len(value) >= 5]


def _method_problems(collection: DataCollection, requests: list[PlannedRequest]) -> list[str]:
    """Declared methods whose request would not do what their name says, per auth option."""
    problems = []
    strings = _sample_strings(collection)
    for name in collection.supported_methods():
        source = f"collection {collection.key}.{name}"
        for planned_request in (r for r in requests if r.source == source):
            where = f"{source} ({planned_request.auth_key})"
            method, sent = planned_request.request.method, _sent(planned_request)
            if method == "GET" and name in ("create", "update", "delete"):
                problems.append(f"{where} uses GET")
            if method == "DELETE" and name in ("create", "update"):
                problems.append(f"{where} uses DELETE")
            if name in ("find_by_id", "update", "delete") and SAMPLE_ID not in sent:
                problems.append(f"{where} does not send the record id")
            if name in ("create", "update") and strings and not any(v in sent for v in strings):
                problems.append(f"{where} sends none of the fields {strings}")
    return problems


@pytest.mark.parametrize("key", KEYS)
def test_collection_methods_use_the_id_and_fields(key: str) -> None:
    requests = planned(key).requests
    problems = [p for c in connector(key).data_collections for p in _method_problems(c, requests)]
    assert not problems, _problems(problems)


@pytest.mark.parametrize("key", KEYS)
def test_formulas_read_only_variables_that_exist(key: str) -> None:
    """Outside requests (checked by the dry run): record parsing, outputs, UDM mappings."""
    spec = connector(key)
    checks: list[tuple[str, Any, set[str]]] = [
        (f"operation {op.key} output", op.output, {"response", "input"}) for op in spec.operations
    ]
    for c in spec.data_collections:
        record = c.record.model_dump(exclude_none=True)
        checks.append((f"collection {c.key} record", record, {"record"}))
        if c.udm:
            checks.append((f"collection {c.key} toUdm", c.udm.to_udm, {"fields"}))
            checks.append((f"collection {c.key} fromUdm", c.udm.from_udm, {"udm"}))
    problems = [
        f"{where} reads {locator!r} (only {sorted(names)} exist)"
        for where, value, names in checks
        for locator in unread_variables(value, names)
    ]
    assert not problems, _problems(problems)


def _udm_problems(collection: DataCollection) -> list[str]:
    udm = collection.udm
    assert udm is not None
    unified = UNIFIED_MODELS[udm.model]
    where = f"collection {collection.key} ({udm.model})"
    problems = [
        f"{where} toUdm maps unknown key {k!r}"
        for k in udm.to_udm
        if k not in unified["properties"]
    ]
    app_fields = set(collection.fields_schema.get("properties", {}))
    directions: list[tuple[str, dict[str, Any], str, Any, set[str]]] = [
        (
            "toUdm",
            udm.to_udm,
            "fields",
            sample_value(collection.fields_schema, "field"),
            set(unified["properties"]),
        ),
        ("fromUdm", udm.from_udm, "udm", sample_value(unified), app_fields),
    ]
    for direction, mapping, variable, sample, known in directions:
        for label, value in (("sample", sample), ("empty", {})):
            try:
                result = evaluate(mapping, {variable: value})
            except Exception as exc:
                problems.append(
                    f"{where} {direction} on {label} {variable}: {type(exc).__name__}: {exc}"
                )
                continue
            unknown = sorted(set(result) - known) if isinstance(result, dict) and known else []
            if unknown:
                problems.append(f"{where} {direction} gives keys {unknown}, not in {sorted(known)}")
    return problems


@pytest.mark.parametrize("key", KEYS)
def test_udm_mappings_produce_unified_fields(key: str) -> None:
    """toUdm gives only the model's properties; fromUdm only the collection's fields."""
    problems = [
        p for c in connector(key).data_collections if c.udm is not None for p in _udm_problems(c)
    ]
    assert not problems, _problems(sorted(set(problems)))


def _secret_context(spec: ConnectorSpec) -> list[dict[str, Any]]:
    """What a webhook verifier knows: app-level ones only the integration."""
    contexts = []
    for option in spec.auth:
        template = sample_context(spec, option).template_context()
        template["integration"]["clientSecret"] = "sample-client-secret"
        if spec.webhooks is not None and spec.webhooks.scope == "app":
            template = {"integration": template["integration"]}
        contexts.append({**template, "webhook": SAMPLE_WEBHOOK})
    return contexts


@pytest.mark.parametrize("key", KEYS)
def test_webhook_signature_secrets_are_templates(key: str) -> None:
    spec = connector(key)
    uses_webhooks = [
        f"{c.key}.{event}"
        for c in spec.data_collections
        for event, source in c.events
        if isinstance(source, WebhookEvents)
    ]
    if spec.webhooks is None:
        assert not uses_webhooks, f"webhook events without a `webhooks` section: {uses_webhooks}"
        return
    signature = spec.webhooks.signature
    if signature is None:
        return
    assert placeholders(signature.secret), "the signing secret must be a template, not a value"
    for context in _secret_context(spec):
        render(signature.secret, context)


def test_readme_table_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m connectors.catalog --check`, as CI runs it."""
    assert catalog.main(["--check"]) == 0, capsys.readouterr().out


# -- the machinery ----------------------------------------------------------------------------


def test_sample_values_follow_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["email", "project"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "project": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer", "minimum": 3}, "tag": {"type": "string"}},
            },
            "state": {"type": ["string", "null"], "enum": ["open", "closed"]},
            "siteUrl": {"type": "string"},
            "code": {"type": "string", "minLength": 4, "maxLength": 4},
            "limit": {"type": "integer", "default": 50},
            "labels": {"type": "array", "items": {"type": "string"}},
        },
    }
    assert sample_value(schema) == {
        "email": "ada@example.com",
        "project": {"id": 3, "tag": "sample-tag"},
        "state": "open",
        "siteUrl": "https://sample.example.com",
        "code": "samp",
        "limit": 50,
        "labels": ["sample-labels"],
    }
    assert sample_value(schema, required_only=True) == {
        "email": "ada@example.com",
        "project": {"id": 3},
    }


BROKEN = """
key: broken
name: Broken
auth:
  - key: key
    type: api-key
    inputSchema: {type: object, properties: {region: {type: string}}}
    apply: {headers: {X-Key: "{{ inputs.apiKey }}"}}
  - key: token
    type: oauth2
    authorizeUrl: "https://{{ inputs.region }}.example.com/auth?hint={{ credentials.access_token }}"
    tokenUrl: https://example.com/token
    inputSchema: {type: object, required: [region], properties: {region: {type: string}}}
    test: {path: "/users/{{ credentials.user_id }}"}
api: {baseUrl: "https://{{ inputs.region }}.example.com"}
operations:
  - key: get
    name: Get
    inputSchema: {type: object, properties: {id: {type: string}}}
    request: {path: "/things/{{ input.id }}", query: {limit: {$var: inputs.limit}}}
  - key: insecure
    name: Insecure
    request: {path: "http://example.com/x"}
"""


def test_dry_run_reports_what_a_connection_would_hit() -> None:
    run = dry_run(ConnectorSpec.model_validate(yaml.safe_load(BROKEN)))
    problems = "\n".join(run.problems)
    assert (
        "auth key (only required inputs) api.baseUrl: OsmoError: Template needs 'inputs.region'"
        in problems
    )
    assert "auth key apply: OsmoError: Template needs 'inputs.apiKey'" in problems
    assert (
        "auth token authorizeUrl: OsmoError: Template needs 'credentials.access_token'" in problems
    )
    assert "auth token test: https://sample-region.example.com/users/%7B%7B" in problems
    assert "operation get (only required input): OsmoError: Template needs 'input.id'" in problems
    assert "operation get: reads 'inputs.limit'" in problems
    # the runtime refuses an absolute URL off the base URL's origin before anything is sent
    assert "operation insecure: ConnectorError: Requests go to the connector's API only" in problems


def test_table_lists_connectors_between_the_markers() -> None:
    paths = [*FAKE_CONNECTORS.glob("*/connector.yaml"), *DEMO_CONNECTORS.glob("*/connector.yaml")]
    specs = [load_connector(path) for path in sorted(paths)]
    table = connectors_table(specs)
    assert "| [Fake CRM](https://example.invalid/fake-crm/docs) `fake-crm` | oauth2, " in table
    assert "| 3 | contacts (LFMCUD) | 3 webhook | contacts |" in table
    # Osmo registers the fake CRM's webhooks; the legend says what each way means.
    assert "| Data collections | Events | Unified models |" in table
    assert "`webhook`, registered with the app by Osmo" in table
    readme = "intro\n<!-- connectors:start -->\nold\n<!-- connectors:end -->\nrest\n"
    updated = with_table(readme, table)
    assert updated.startswith("intro\n<!-- connectors:start -->\n| Connector |")
    assert "old" not in updated and updated.endswith("<!-- connectors:end -->\nrest\n")


def test_check_reports_a_stale_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- connectors:start -->\n<!-- connectors:end -->\n")
    specs = [load_connector(DEMO_CONNECTORS / "fake_crm" / "connector.yaml")]
    diff = catalog.readme_diff(readme, specs)
    assert "+| [Fake CRM]" in diff
    readme.write_text(with_table(readme.read_text(), connectors_table(specs)))
    assert catalog.readme_diff(readme, specs) == ""
