"""Webhooks: how the app calls Osmo, how to verify it, and how to find the connection."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from connectors.spec.base import SpecModel


class WebhookSignature(SpecModel):
    """How a webhook request proves it comes from the app.

    `hmac-sha256` / `hmac-sha1`: an HMAC of `payload`, where `{body}` (the raw body),
    `{timestamp}`, `{url}` (the full URL the app called: Osmo's public webhook URL, path and
    query), `{method}` and header values `{header:Name}` are substituted, e.g. Slack
    `v0:{timestamp}:{body}`, Stripe `{timestamp}.{body}`, HubSpot v3
    `{method}{url}{body}{timestamp}`, Trello `{body}{url}`.
    `token`: the header carries a shared secret, compared as is (GitLab `X-Gitlab-Token`).
    `basic-auth`: HTTP basic auth, `username` and `secret` as the password (Pipedrive).
    `jwt-hs256`: `Authorization: Bearer <JWT>` signed HS256 with the secret; `exp` is checked
    (Jira webhooks registered by an OAuth 2.0 app).
    """

    algorithm: Literal["hmac-sha256", "hmac-sha1", "token", "basic-auth", "jwt-hs256"] = Field(
        "hmac-sha256", description="How the request is signed or authenticated."
    )
    header: str = Field(
        "Authorization",
        description="Header carrying the signature (`Authorization` for basic auth and JWT).",
    )
    encoding: Literal["hex", "base64"] = Field("hex", description="Encoding of an HMAC.")
    prefix: str = Field("", description="Stripped from the header value, e.g. `sha256=`.")
    payload: str = Field("{body}", description="What was signed (see above).")
    timestamp_header: str | None = Field(None, description="Header carrying the signing time.")
    timestamp_path: str | None = Field(
        None,
        description="Locator of the signing time in the JSON body, when the app puts it there "
        "(Linear `webhookTimestamp`); the body is signed, so the time is too.",
    )
    timestamp_unit: Literal["s", "ms"] = Field(
        "s",
        description="Unit of a numeric timestamp: epoch seconds or milliseconds (HubSpot, "
        "Linear). ISO 8601 timestamps (Zendesk) are read as such.",
    )
    tolerance_seconds: int | None = Field(
        300, description="Max age (either way) of the signing time; null: not checked."
    )
    header_format: Literal["plain", "stripe"] = Field(
        "plain", description="`stripe`: `t=<ts>,v1=<sig>` in one header."
    )
    decode_url: bool = Field(
        False,
        description="Percent-decode the reserved characters of `{url}` (`:/?@!$'()*,;`) "
        "before signing, as HubSpot's v3 signature says.",
    )
    secret: str = Field(description="Template of the signing secret (the password for basic auth).")
    secret_encoding: Literal["raw", "base64"] = Field(
        "raw", description="`base64`: the secret is base64 and is decoded before use (Airtable)."
    )
    username: str | None = Field(
        None, description="`basic-auth`: template of the expected user name."
    )

    @model_validator(mode="after")
    def _complete(self) -> WebhookSignature:
        if self.algorithm == "basic-auth" and self.username is None:
            raise ValueError("a basic-auth check needs `username`")
        if self.algorithm in ("hmac-sha256", "hmac-sha1", "token") and (
            "header" not in self.model_fields_set
        ):
            raise ValueError(f"a {self.algorithm} signature needs `header`")
        return self


class WebhookRouting(SpecModel):
    """App-level webhooks: which connection an event belongs to."""

    event_path: str = Field(description="Locator of the account id in each event.")
    connection_value: str = Field(
        description="Template over the connection matched against it, e.g. "
        "`{{ credentials.hub_id }}`."
    )


class HandshakeMatch(SpecModel):
    """Which requests are a handshake: every condition given must hold."""

    method: str | None = Field(None, description="HTTP method, e.g. `HEAD` (Trello).")
    header: str | None = Field(None, description="A header the request carries.")
    header_value: str | None = Field(None, description="The value that header must have.")
    body_path: str | None = Field(None, description="Locator in the JSON body.")
    body_value: Any = Field(
        None, description="The value at `bodyPath`; without it, the path only has to exist."
    )

    @model_validator(mode="after")
    def _something(self) -> HandshakeMatch:
        if self.method is None and self.header is None and self.body_path is None:
            raise ValueError("a handshake matches on `method`, `header` or `bodyPath`")
        if self.header_value is not None and self.header is None:
            raise ValueError("`headerValue` needs `header`")
        if self.body_value is not None and self.body_path is None:
            raise ValueError("`bodyValue` needs `bodyPath`")
        return self


class HandshakeResponse(SpecModel):
    """What Osmo answers to a handshake."""

    status: int = Field(200, ge=200, le=299, description="HTTP status.")
    echo_headers: list[str] = Field(
        default_factory=list, description="Request headers sent back as they came (Asana)."
    )
    body_path: str | None = Field(
        None, description="The answer's body is this value of the request body (Slack)."
    )
    content_type: str = Field("text/plain", description="Content type of the body.")


class WebhookHandshake(SpecModel):
    """A request the app sends to check or set up the endpoint, answered without delivering
    events (Slack `url_verification`, Asana `X-Hook-Secret`, Trello's HEAD, GitHub `ping`)."""

    name: str = Field(description="Names the handshake in logs.")
    match: HandshakeMatch = Field(description="Which requests are this handshake.")
    signed: bool = Field(
        description="The app signs this request: it is answered only after the signature "
        "check passed. False only where the vendor sends it unsigned (Asana's first request, "
        "Trello's HEAD, Notion's verification)."
    )
    reply: HandshakeResponse = Field(
        default_factory=HandshakeResponse, description="What Osmo answers."
    )
    secret_header: str | None = Field(
        None, description="Header carrying a secret the app hands over, kept for later checks."
    )
    secret_path: str | None = Field(
        None, description="Locator in the JSON body of such a secret (Notion)."
    )


class WebhookSpec(SpecModel):
    """How the app calls Osmo's webhook endpoint."""

    scope: Literal["connection", "app"] = Field(
        "connection",
        description="`connection`: one webhook per connection; `app`: one for the whole app, "
        "routed to connections by `routing`.",
    )
    signature: WebhookSignature | None = Field(None, description="How deliveries are signed.")
    alternative_signatures: list[WebhookSignature] = Field(
        default_factory=list,
        description="Other schemes the same app uses for some webhooks (Jira: admin webhooks "
        "are HMAC-signed, an OAuth app's are JWT-signed). A request is checked with the first "
        "scheme whose header it carries.",
    )
    handshakes: list[WebhookHandshake] = Field(
        default_factory=list, description="Setup requests answered without delivering events."
    )
    routing: WebhookRouting | None = Field(
        None, description="App-level webhooks: which connection an event belongs to."
    )
    events_path: str | None = Field(None, description="Locator of the events array, if batched.")
    event_type_path: str | None = Field(None, description="Locator of an event's type.")
    event_type_header: str | None = Field(
        None, description="Header carrying the event type (GitHub `X-GitHub-Event`)."
    )
    event_id_path: str | None = Field(None, description="Locator of a delivery/event id.")
    event_id_header: str | None = Field(
        None,
        description="Header carrying an id unchanged across redeliveries (GitHub "
        "`X-GitHub-Delivery`); only for apps sending one event per request.",
    )
    event_id_exclude: list[str] = Field(
        default_factory=list,
        description="Without an id, an event's id is the SHA-256 of its canonical JSON; these "
        "locators name fields that change between redeliveries (attempt counters) and are "
        "left out of it.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> WebhookSpec:
        if self.event_id_header is not None and self.events_path is not None:
            raise ValueError(
                "`eventIdHeader` names one id per request; with `eventsPath` (batched events) "
                "every event would share it: use `eventIdPath`"
            )
        if self.scope == "app" and self.routing is None:
            raise ValueError("an app-level webhook needs `routing`")
        return self
