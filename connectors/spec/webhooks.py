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

    algorithm: Literal["hmac-sha256", "hmac-sha1"] = "hmac-sha256"
    header: str = Field(description="Header carrying the signature.")
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field("", description="Stripped from the header value, e.g. `sha256=`.")
    payload: str = "{body}"
    timestamp_header: str | None = None
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
    scope: Literal["connection", "app"] = "connection"
    signature: WebhookSignature | None = None
    routing: WebhookRouting | None = None
    events_path: str | None = Field(None, description="Locator of the events array, if batched.")
    event_type_path: str | None = Field(None, description="Locator of an event's type.")
    event_id_path: str | None = Field(None, description="Locator of a delivery/event id.")
