"""Auth options: how a connection authenticates and how credentials go into requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from connectors.spec.base import RequestSpec, SpecModel


class BasicCredentials(SpecModel):
    """HTTP Basic credentials built from the connection's inputs (templates)."""

    username: str = Field(description="Template of the username, e.g. `{{ inputs.email }}/token`.")
    password: str = Field("", description="Template of the password (or token).")


class CredentialsMapping(SpecModel):
    """How a connection's inputs and credentials go into every API request."""

    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers that carry the credentials (templates)."
    )
    query: dict[str, str] = Field(
        default_factory=dict, description="Query parameters that carry the credentials."
    )
    basic: BasicCredentials | None = Field(None, description="HTTP Basic credentials.")


class AuthOptionBase(SpecModel):
    key: str = Field(description="Stable key of this auth option within the connector.")
    name: str | None = Field(None, description="Name shown to the customer on the connect page.")
    input_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema of fields the customer enters (subdomain, API key...). "
        "Properties with `isSensitive: true` are treated as secrets.",
    )
    apply: CredentialsMapping | None = Field(
        default=None, description="Overrides how credentials are put into requests."
    )
    test: RequestSpec | None = Field(
        default=None, description="Request that proves the credentials work."
    )


class TokenRevocation(SpecModel):
    """An RFC 7009 revocation endpoint, called when a connection is deleted."""

    url: str = Field(description="Revocation endpoint (template).")
    token: Literal["access_token", "refresh_token"] = Field(
        "refresh_token", description="Which token to revoke."
    )


class OAuth2Option(AuthOptionBase):
    """OAuth 2.0 authorization code grant (with PKCE and refresh)."""

    type: Literal["oauth2"] = Field(description="OAuth 2.0 authorization code grant.")
    authorize_url: str = Field(description="Where the customer is sent to consent (template).")
    token_url: str = Field(description="Token endpoint (template).")
    scopes: list[str] = Field(default_factory=list, description="Scopes always requested.")
    scope_separator: str = Field(" ", description="Separator between scopes in requests.")
    pkce: bool = Field(True, description="Send an S256 PKCE challenge.")
    authorize_params: dict[str, str] = Field(
        default_factory=dict, description="Extra query parameters of the authorize URL."
    )
    client_auth: Literal["body", "basic"] = Field(
        "body", description="Where the client id/secret go in token requests."
    )
    token_values: dict[str, str] = Field(
        default_factory=dict,
        description="Values kept from the token response: name → dotted path, e.g. "
        "`instanceUrl: instance_url`. Available as `credentials.<name>`.",
    )
    issuer: str | None = Field(
        None,
        description="The authorization server's issuer identifier (RFC 8414), e.g. "
        "`https://login.example.com`; templates allowed for per-tenant issuers. When the "
        "callback carries `iss` (RFC 9207) it must equal this exactly.",
        examples=["https://auth.example.com"],
    )
    authorization_response_iss_parameter_supported: bool = Field(
        False,
        description="The provider sends `iss` on every authorization response (RFC 9207, "
        "its metadata's `authorization_response_iss_parameter_supported`): a callback "
        "without it is refused. Needs `issuer`.",
    )
    refresh: bool = Field(True, description="Refresh with the refresh_token grant.")
    revoke: TokenRevocation | None = Field(None, description="RFC 7009 revocation.")
    revoke_request: RequestSpec | None = Field(
        None,
        description="A vendor-specific revocation request (e.g. HubSpot's DELETE "
        "`/oauth/v1/refresh-tokens/{{ credentials.refresh_token }}`), sent with the "
        "connection's auth.",
    )

    @model_validator(mode="after")
    def _iss_needs_issuer(self) -> OAuth2Option:
        if self.authorization_response_iss_parameter_supported and not self.issuer:
            raise ValueError(
                "authorizationResponseIssParameterSupported needs `issuer` to compare `iss` with"
            )
        return self


class OAuth2ClientCredentialsOption(AuthOptionBase):
    """OAuth 2.0 client credentials grant, with the customer's or the integration's client."""

    type: Literal["oauth2-client-credentials"] = Field(
        description="OAuth 2.0 client credentials grant."
    )
    token_url: str = Field(description="Token endpoint (template).")
    scopes: list[str] = Field(default_factory=list, description="Scopes requested.")
    scope_separator: str = Field(" ", description="Separator between scopes in requests.")
    client_auth: Literal["body", "basic"] = Field(
        "body", description="Where the client id/secret go in token requests."
    )
    client_from: Literal["integration", "inputs"] = Field(
        "integration",
        description="`inputs` reads `clientId`/`clientSecret` from the customer's inputs.",
    )
    token_values: dict[str, str] = Field(
        default_factory=dict,
        description="Values kept from the token response (name → dotted path).",
    )


class OAuth1Option(AuthOptionBase):
    """OAuth 1.0a three-legged flow (HMAC-SHA1 signatures)."""

    type: Literal["oauth1"] = Field(description="OAuth 1.0a three-legged flow.")
    request_token_url: str = Field(description="Temporary credentials endpoint (template).")
    authorize_url: str = Field(description="Where the customer is sent to authorize.")
    access_token_url: str = Field(description="Token credentials endpoint (template).")
    signature_method: Literal["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"] = Field(
        "HMAC-SHA1", description="How requests are signed."
    )


class ApiKeyOption(AuthOptionBase):
    """An API key the customer pastes; `apply` says where it goes."""

    type: Literal["api-key"] = Field(description="An API key the customer pastes.")

    @model_validator(mode="after")
    def _needs_apply(self) -> ApiKeyOption:
        if self.apply is None:
            raise ValueError("api-key auth needs `apply` (where the key goes in requests)")
        return self


class BasicOption(AuthOptionBase):
    """HTTP Basic with a username and password (or token) the customer enters."""

    type: Literal["basic"] = Field(description="HTTP Basic with a username and password.")


class CustomOption(AuthOptionBase):
    """Any input fields described by `inputSchema`, mapped into requests by `apply`."""

    type: Literal["custom"] = Field(description="Input fields mapped into requests by `apply`.")

    @model_validator(mode="after")
    def _needs_apply(self) -> CustomOption:
        if self.apply is None:
            raise ValueError("custom auth needs `apply` (how inputs go in requests)")
        return self


AuthOption = Annotated[
    OAuth2Option
    | OAuth2ClientCredentialsOption
    | OAuth1Option
    | ApiKeyOption
    | BasicOption
    | CustomOption,
    Field(discriminator="type"),
]

OAUTH_REDIRECT_TYPES = ("oauth2", "oauth1")
