from __future__ import annotations

import json

import pytest

from connectors.runtime.redaction import MASK, Redactor
from connectors.runtime.templates import render, render_value
from core.errors import OsmoError
from tests.conftest import DEMO_CONNECTORS


def test_known_secret_values_are_masked_everywhere() -> None:
    redactor = Redactor({"s3cr3t-value"})
    assert redactor.text("token=s3cr3t-value;") == f"token={MASK};"
    assert redactor.url("https://u:p@x.test/a?q=s3cr3t-value&api_key=zzz&page=2") == (
        "https://x.test/a?q=%5BREDACTED%5D&api_key=%5BREDACTED%5D&page=2"
    )
    headers = redactor.headers([("Authorization", "Bearer abc"), ("X-Custom", "s3cr3t-value")])
    assert headers == {"Authorization": MASK, "X-Custom": MASK}


def test_secret_named_fields_are_masked_in_json_and_forms() -> None:
    redactor = Redactor()
    body = json.dumps({"access_token": "a", "nested": {"client_secret": "b"}, "name": "ok"})
    assert json.loads(redactor.body(body.encode(), "application/json", 1000) or "") == {
        "access_token": MASK,
        "nested": {"client_secret": MASK},
        "name": "ok",
    }
    form = redactor.body(
        b"grant_type=refresh_token&refresh_token=abc", "application/x-www-form-urlencoded", 1000
    )
    assert form == "grant_type=refresh_token&refresh_token=%5BREDACTED%5D"
    assert redactor.body(b"\xff\xfe", "application/octet-stream", 10) == "<2 bytes of binary data>"


def test_templates_render_and_report_missing_paths() -> None:
    context = {"inputs": {"subdomain": "acme"}, "credentials": {"list": ["a", "b"]}}
    assert render("https://{{ inputs.subdomain }}.x.test/{{credentials.list.1}}", context) == (
        "https://acme.x.test/b"
    )
    assert render_value({"h": ["{{ inputs.subdomain }}", 3]}, context) == {"h": ["acme", 3]}
    with pytest.raises(OsmoError) as raised:
        render("{{ inputs.region }}", context)
    assert raised.value.key == "template_value_missing" and raised.value.data == {
        "path": "inputs.region"
    }


def test_form_bodies_use_bracket_notation() -> None:
    from connectors.runtime.mapping import form_fields

    assert form_fields(
        {"a": 1, "metadata": {"k": "v"}, "items": [{"price": "p1"}], "on": True}
    ) == [
        ("a", "1"),
        ("metadata[k]", "v"),
        ("items[0][price]", "p1"),
        ("on", "true"),
    ]


async def test_next_page_urls_keep_their_query() -> None:
    from connectors.registry import ConnectorRegistry
    from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink

    registry = ConnectorRegistry([DEMO_CONNECTORS])
    connector = registry.get("fake-crm")
    assert connector is not None
    runtime = ConnectorRuntime(registry, None, MemoryApiLogSink())
    ctx = ConnectionContext(
        connector=connector,
        auth=connector.auth[0],
        customer_id=None,
        integration_key="crm",
        client_id="c",
        client_secret="s",
        integration_parameters={"baseUrl": "https://crm.test"},
        scopes=[],
        credentials={"access_token": "t"},
    )
    request = runtime.build_request(ctx, "GET", "https://crm.test/api/v1/contacts?page=2&x=y")
    assert request.url.params["page"] == "2" and request.url.params["x"] == "y"
    request = runtime.build_request(ctx, "GET", "/api/v1/contacts?page=3", params={"limit": "5"})
    assert dict(request.url.params) == {"page": "3", "limit": "5"}
    await runtime.aclose()
