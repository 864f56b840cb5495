"""Servers and security schemes → base URL, auth options, inputs and the credential test."""

from __future__ import annotations

from typing import Any

from connectors.openapi import build_connector, import_openapi
from connectors.spec import (
    ApiKeyOption,
    BasicOption,
    CustomOption,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
)
from tests.connectors.openapi.conftest import oas, ok

PATHS = {
    "/projects": {"get": {"operationId": "listProjects", "responses": ok()}},
    "/users/me": {"get": {"operationId": "me", "responses": ok()}},
    "/users/{id}": {
        "get": {
            "operationId": "getUser",
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "responses": ok(),
        }
    },
}


def with_schemes(schemes: dict[str, Any], **top: Any) -> dict[str, Any]:
    return oas(PATHS, {"securitySchemes": schemes}, **top)


def test_server_variables_become_inputs_of_every_auth_option() -> None:
    document = with_schemes(
        {
            "token": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
        },
        servers=[
            {
                "url": "https://{subdomain}.example.com/{version}/",
                "variables": {
                    "subdomain": {"default": "acme", "description": "Your account"},
                    "version": {"default": "v2", "enum": ["v1", "v2"]},
                },
            }
        ],
    )
    connector = import_openapi(document, "example")
    assert (
        connector.api.base_url == "https://{{ inputs.subdomain }}.example.com/{{ inputs.version }}"
    )
    for option in connector.auth:
        assert option.input_schema is not None
        properties = option.input_schema["properties"]
        assert properties["subdomain"]["default"] == "acme"
        assert properties["version"]["enum"] == ["v1", "v2"]
        assert option.input_schema["required"][:2] == ["subdomain", "version"]
    token, basic = connector.auth
    assert token.input_schema is not None and "apiKey" in token.input_schema["required"]
    assert basic.input_schema is not None and "password" in basic.input_schema["required"]


def test_a_relative_server_asks_for_the_base_url() -> None:
    connector = import_openapi(with_schemes({}, servers=[{"url": "/api/v3"}]), "example")
    assert connector.api.base_url == "{{ inputs.baseUrl }}/api/v3"
    (option,) = connector.auth
    assert option.input_schema is not None and option.input_schema["required"] == ["baseUrl"]


def test_every_kind_of_scheme() -> None:
    flows = {
        "authorizationCode": {
            "authorizationUrl": "https://example.com/oauth/authorize",
            "tokenUrl": "/oauth/token",
            "refreshUrl": "/oauth/token",
            "scopes": {"read": "Read", "write": "Write", "admin": "Everything"},
        },
        "clientCredentials": {"tokenUrl": "https://example.com/oauth/token", "scopes": {}},
        "implicit": {"authorizationUrl": "https://example.com/oauth/authorize", "scopes": {}},
    }
    result = build_connector(
        with_schemes(
            {
                "oauth": {"type": "oauth2", "flows": flows},
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "headerKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
                "cookieKey": {"type": "apiKey", "in": "cookie", "name": "session"},
                "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://example.com/.wk"},
            },
            security=[{"oauth": ["read"]}],
        ),
        "example",
    )
    oauth, client, bearer, basic, header, query, cookie = result.connector.auth
    assert isinstance(oauth, OAuth2Option) and oauth.key == "oauth"
    assert oauth.authorize_url == "https://example.com/oauth/authorize"
    # Relative to the server; only scopes the document requires are requested.
    assert oauth.token_url == "https://api.example.com/oauth/token"
    assert oauth.scopes == ["read"]
    assert isinstance(client, OAuth2ClientCredentialsOption)
    assert client.key == "oauth-client-credentials"
    assert isinstance(bearer, ApiKeyOption) and bearer.apply is not None
    assert bearer.apply.headers == {"Authorization": "Bearer {{ inputs.apiKey }}"}
    assert isinstance(basic, BasicOption)
    assert isinstance(header, ApiKeyOption) and header.apply is not None
    assert header.apply.headers == {"X-Api-Key": "{{ inputs.apiKey }}"}
    assert isinstance(query, ApiKeyOption) and query.apply is not None
    assert query.apply.query == {"api_key": "{{ inputs.apiKey }}"}
    assert isinstance(cookie, ApiKeyOption) and cookie.apply is not None
    assert cookie.apply.headers == {"Cookie": "session={{ inputs.apiKey }}"}
    assert (header.key, query.key, cookie.key) == ("header-key", "query-key", "cookie-key")
    assert result.notes == [
        "components.securitySchemes.oauth.flows.implicit: the OAuth 2.0 implicit flow is not "
        "supported",
        "components.securitySchemes.oidc: openIdConnect security schemes are not supported",
    ]


def test_no_scheme_gives_a_custom_option_that_validates() -> None:
    (option,) = import_openapi(oas(PATHS), "example").auth
    assert isinstance(option, CustomOption)
    assert option.input_schema is None and option.apply is not None
    assert option.apply.headers == {} and option.apply.query == {}


def test_the_credential_test_prefers_who_am_i_and_skips_required_parameters() -> None:
    connector = import_openapi(oas(PATHS), "example")
    assert connector.auth[0].test is not None
    assert connector.auth[0].test.path == "/users/me"
    only_list = oas({key: PATHS[key] for key in ("/projects", "/users/{id}")})
    option = import_openapi(only_list, "example").auth[0]
    assert option.test is not None and option.test.path == "/projects"


def test_parameters_carrying_credentials_are_left_to_the_auth_option() -> None:
    document = with_schemes(
        {
            "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "oauth": {
                "type": "oauth2",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "https://example.com/a",
                        "tokenUrl": "https://example.com/t",
                        "scopes": {},
                    }
                },
            },
        }
    )
    document["paths"]["/projects"]["get"]["parameters"] = [
        {"name": "X-Api-Key", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
        {"name": "access_token", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
    ]
    operation = import_openapi(document, "example").operation("list-projects")
    assert operation is not None
    assert list(operation.input_schema["properties"]) == ["limit"]
    assert "required" not in operation.input_schema
    assert operation.request.headers == {}
