"""Where a connection's requests may go: under the base URL, nowhere else, never rendered."""

from __future__ import annotations

import httpx
import pytest

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorError, ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.urls import customer_derived, parse_base_url, render_url, resolve_url
from connectors.spec import ConnectorSpec

BASE = httpx.URL("https://acme.example.com/api/v2")

CLIMBING = [
    "../../etc/passwd",
    "users/../../../etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc/passwd",
    "..%2f..%2fetc/passwd",
    "..%5c..%5cetc/passwd",
    "..\\..\\etc\\passwd",
    "%252e%252e/etc/passwd",
    "./users",
    "users/%2e",
]


@pytest.mark.parametrize("path", CLIMBING)
def test_dot_segments_in_any_spelling_are_refused(path: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        resolve_url(BASE, path)
    assert raised.value.key == "url_outside_api" and raised.value.status == 400


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("users/me.json", "https://acme.example.com/api/v2/users/me.json"),
        ("/users/me.json", "https://acme.example.com/api/v2/users/me.json"),
        ("tickets?page=2&q=a b", "https://acme.example.com/api/v2/tickets?page=2&q=a%20b"),
        ("projects/group%2Fproject", "https://acme.example.com/api/v2/projects/group%2Fproject"),
        ("v1/jobs:run", "https://acme.example.com/api/v2/v1/jobs:run"),
        # a next-page URL on the same origin and under the base path is followed as it is
        (
            "https://acme.example.com/api/v2/tickets.json?page=3",
            "https://acme.example.com/api/v2/tickets.json?page=3",
        ),
        (
            "https://acme.example.com:443/api/v2/tickets.json",
            "https://acme.example.com/api/v2/tickets.json",
        ),
    ],
)
def test_paths_resolve_under_the_base_url(path: str, expected: str) -> None:
    assert str(resolve_url(BASE, path)) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8403/x?rt=secret",
        "https://evil.example.com/api/v2/users",
        "http://acme.example.com/api/v2/users",  # another scheme is another origin
        "https://acme.example.com:8443/api/v2/users",
        "//evil.example.com/api/v2/users",
        "\\\\evil.example.com/api/v2",
        "https://acme.example.com/admin",  # same origin, outside the base path
        "https://acme.example.com/api/v2x/users",
        "https://user@acme.example.com/api/v2/users",
    ],
)
def test_absolute_urls_off_the_base_url_are_refused(url: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        resolve_url(BASE, url)
    assert raised.value.key == "url_outside_api"


@pytest.mark.parametrize("path", ["\tx", "users/\nme", "users\x00", "x#fragment"])
def test_control_characters_and_fragments_are_invalid_urls(path: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        resolve_url(BASE, path)
    assert raised.value.key == "invalid_url" and raised.value.status == 400


@pytest.mark.parametrize(
    "rendered",
    [
        "https://x@127.0.0.1#.zendesk.com/api/v2",  # a subdomain input of `x@127.0.0.1#`
        "https://127.0.0.1#.zendesk.com",
        "https://a.example.com?.zendesk.com",
        "ftp://files.example.com",
        "https://",
        "https://exa\tmple.com",
    ],
)
def test_base_urls_bent_by_an_input_are_refused(rendered: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        parse_base_url(rendered)
    assert raised.value.key == "invalid_url"


def test_which_base_urls_come_from_the_customer() -> None:
    assert customer_derived("https://{{ inputs.subdomain }}.zendesk.com/api/v2")
    assert customer_derived("{{ credentials.instance_url }}")
    assert not customer_derived("{{ integration.parameters.baseUrl }}/api/v4")
    assert not customer_derived("https://api.github.com")


SPEC = ConnectorSpec.model_validate(
    {
        "key": "echo",
        "name": "Echo",
        "auth": [
            {
                "key": "key",
                "type": "api-key",
                "apply": {"headers": {"X-Key": "{{ inputs.apiKey }}"}},
            }
        ],
        "api": {"baseUrl": "https://echo.example.com/api"},
    }
)


async def test_a_path_is_sent_literally_never_rendered() -> None:
    """A template in a path reaches the app as text; secrets render only in the spec's own
    definitions (here the auth header)."""
    seen: list[httpx.Request] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    runtime = ConnectorRuntime(
        ConnectorRegistry([]), None, MemoryApiLogSink(), transport=httpx.MockTransport(echo)
    )
    ctx = ConnectionContext(
        connector=SPEC,
        auth=SPEC.auth[0],
        customer_id="c",
        integration_key="echo",
        client_id=None,
        client_secret=None,
        integration_parameters={},
        scopes=[],
        inputs={"apiKey": "key-123456"},
    )
    try:
        await runtime.request(ctx, "GET", "x?k={{ inputs.apiKey }}")
        with pytest.raises(ConnectorError) as raised:
            await runtime.request(ctx, "GET", "https://echo.example.com/x?k={{ inputs.apiKey }}")
    finally:
        await runtime.aclose()
    assert raised.value.key == "url_outside_api"  # outside /api
    [request] = seen
    assert request.url.path == "/api/x"
    assert request.url.params["k"] == "{{ inputs.apiKey }}"
    assert request.headers["x-key"] == "key-123456"


CONTEXT = {"inputs": {}, "credentials": {"instance_url": "https://na1.example.com"}}


@pytest.mark.parametrize(
    "subdomain", ["attacker.example/", "x@127.0.0.1#", "acme.zendesk.com?", "a b", "acme:8080"]
)
def test_a_value_inside_the_host_cannot_change_the_urls_shape(subdomain: str) -> None:
    context = {**CONTEXT, "inputs": {"subdomain": subdomain}}
    with pytest.raises(ConnectorError) as raised:
        render_url("https://{{ inputs.subdomain }}.zendesk.com/oauth/tokens", context)
    assert raised.value.key == "invalid_url" and "inputs.subdomain" in raised.value.message


def test_url_templates_keep_host_names_whole_urls_and_encode_path_values() -> None:
    context = {**CONTEXT, "inputs": {"subdomain": "acme", "cloudId": "../../admin"}}
    assert render_url("https://{{ inputs.subdomain }}.zendesk.com/api/v2", context) == (
        "https://acme.zendesk.com/api/v2"
    )
    assert render_url("{{ credentials.instance_url }}/services", context) == (
        "https://na1.example.com/services"
    )
    assert render_url("https://api.example.com/ex/{{ inputs.cloudId }}", context) == (
        "https://api.example.com/ex/..%2F..%2Fadmin"
    )
    # and a base path that climbs is refused like any other path
    with pytest.raises(ConnectorError) as raised:
        parse_base_url("https://api.example.com/ex/..%2F..%2Fadmin")
    assert raised.value.key == "url_outside_api"


def test_an_encoded_slash_in_the_base_path_stays_encoded() -> None:
    base = parse_base_url("https://api.example.com/ex/a%2Fb")
    assert str(resolve_url(base, "issues")) == "https://api.example.com/ex/a%2Fb/issues"
    assert str(resolve_url(base, "https://api.example.com/ex/a%2Fb/x")) == (
        "https://api.example.com/ex/a%2Fb/x"
    )
