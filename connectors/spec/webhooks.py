"""Webhooks: how the app calls Osmo, how to verify it, and how to find the connection."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.spec.base import SpecModel


class WebhookSignature(SpecModel):
    """HMAC verification of incoming webhooks.

    `payload` is what was signed: `{body}`, `{timestamp}` and header values `{header:Name}`
    are substituted, e.g. Slack `v0:{timestamp}:{body}`, Stripe `{timestamp}.{body}`.
    """

    algorithm: Literal["hmac-sha256", "hmac-sha1"] = Field(
        "hmac-sha256", description="HMAC algorithm."
    )
    header: str = Field(description="Header carrying the signature.")
    encoding: Literal["hex", "base64"] = Field("hex", description="Encoding of the signature.")
    prefix: str = Field("", description="Stripped from the header value, e.g. `sha256=`.")
    payload: str = Field("{body}", description="What was signed (see above).")
    timestamp_header: str | None = Field(None, description="Header carrying the signing time.")
    tolerance_seconds: int | None = Field(300, description="Max age when signed with a time.")
    header_format: Literal["plain", "stripe"] = Field(
        "plain", description="`stripe`: `t=<ts>,v1=<sig>` in one header."
    )
    secret: str = Field(description="Template of the signing secret.")
    secret_encoding: Literal["raw", "base64"] = Field(
        "raw", description="`base64`: the secret is base64 and is decoded before use (Airtable)."
    )


class WebhookRouting(SpecModel):
    """App-level webhooks: which connection an event belongs to."""

    event_path: str = Field(description="Locator of the account id in each event.")
    connection_value: str = Field(
        description="Template over the connection matched against it, e.g. "
        "`{{ credentials.hub_id }}`."
    )


class WebhookSpec(SpecModel):
    """How the app calls Osmo's webhook endpoint."""

    scope: Literal["connection", "app"] = Field(
        "connection",
        description="`connection`: one webhook per connection; `app`: one for the whole app, "
        "routed to connections by `routing`.",
    )
    signature: WebhookSignature | None = Field(None, description="How deliveries are signed.")
    routing: WebhookRouting | None = Field(
        None, description="App-level webhooks: which connection an event belongs to."
    )
    events_path: str | None = Field(None, description="Locator of the events array, if batched.")
    event_type_path: str | None = Field(None, description="Locator of an event's type.")
    event_id_path: str | None = Field(None, description="Locator of a delivery/event id.")
