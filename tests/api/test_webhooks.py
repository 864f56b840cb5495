"""Webhook ingress on a real API on loopback, deliveries checked in the inbox workflow's
history on the Temporal dev server (no worker needed: Temporal keeps the signals)."""

from __future__ import annotations

import hashlib
import hmac
import time

from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from core.events.models import EventSubscription, IncomingWebhook
from tests.api.event_helpers import (
    GITHUB_SECRET,
    body_of,
    connection,
    delivered_signals,
    github_signed,
    inbox_exists,
    integration,
    stripe_signed,
    subscription,
    use_temporal,
)
from tests.conftest import Osmo


def logs(osmo: Osmo) -> list[IncomingWebhook]:
    with Session(osmo.services.engine) as session:
        return list(session.exec(select(IncomingWebhook)).all())


def github_subscription(osmo: Osmo, tenant: str = "acme", **kwargs: object) -> tuple[str, str]:
    integration_id = integration(osmo, f"gh-{tenant}", "github")
    conn = connection(osmo, integration_id, tenant, "oauth-app", {"access_token": "gho_secret"})
    return conn, subscription(osmo, conn, secret=GITHUB_SECRET, **kwargs)  # type: ignore[arg-type]


async def test_signed_webhook_is_logged_and_delivered_to_the_inbox(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn, sub = github_subscription(osmo_sqlite)
    body = body_of({"action": "opened", "issue": {"id": 7, "title": "Bug"}})
    headers = github_signed(body)

    response = await osmo_sqlite.client.post(
        f"/webhooks/subscriptions/{sub}", content=body, headers=headers
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "delivered" and answer["subscriptionIds"] == [sub]
    [entry] = logs(osmo_sqlite)
    assert (entry.id, entry.status, entry.subscription_ids) == (answer["id"], "delivered", [sub])
    assert entry.connection_id == conn and entry.body and '"Bug"' in entry.body
    assert entry.headers["x-hub-signature-256"] == "[REDACTED]"
    [delivery] = await delivered_signals(osmo_sqlite, sub)
    assert delivery["incoming_webhook_id"] == entry.id
    assert delivery["body"] == {"action": "opened", "issue": {"id": 7, "title": "Bug"}}
    assert delivery["headers"]["x-github-delivery"] == headers["X-GitHub-Delivery"]
    assert delivery["headers"]["x-hub-signature-256"] == "[REDACTED]"


async def test_forged_signature_is_401_logged_rejected_and_not_delivered(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    _, sub = github_subscription(osmo_sqlite)
    body = body_of({"action": "opened"})

    response = await osmo_sqlite.client.post(
        f"/webhooks/subscriptions/{sub}", content=body, headers=github_signed(body, "wrong")
    )

    assert response.status_code == 401
    assert response.json()["key"] == "invalid_signature"
    [entry] = logs(osmo_sqlite)
    assert (entry.status, entry.response_status, entry.subscription_ids) == ("rejected", 401, [])
    assert not await inbox_exists(env.client, sub)


async def test_unknown_or_unsubscribed_subscription_is_404_and_logged(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    _, sub = github_subscription(osmo_sqlite, state="unsubscribed")
    body = body_of({"action": "opened"})

    for target in (sub, "no-such-subscription"):
        response = await osmo_sqlite.client.post(
            f"/webhooks/subscriptions/{target}", content=body, headers=github_signed(body)
        )
        assert response.status_code == 404
        assert response.json()["key"] == "event_subscription_not_found"
    assert sorted((e.status, e.response_status) for e in logs(osmo_sqlite)) == [
        ("unrouted", 404),
        ("unrouted", 404),
    ]
    assert not await inbox_exists(env.client, sub)


async def test_body_over_the_limit_is_413(osmo_sqlite: Osmo, env: WorkflowEnvironment) -> None:
    use_temporal(osmo_sqlite, env.client)
    _, sub = github_subscription(osmo_sqlite)
    body = b'{"x": "' + b"a" * (osmo_sqlite.settings.webhook_body_limit + 1) + b'"}'

    response = await osmo_sqlite.client.post(
        f"/webhooks/subscriptions/{sub}", content=body, headers=github_signed(body)
    )

    assert response.status_code == 413
    assert response.json()["key"] == "request_too_large"
    assert not await inbox_exists(env.client, sub)


async def test_temporal_down_is_503_and_logged_failed(osmo_sqlite: Osmo) -> None:
    osmo_sqlite.services.settings.temporal_address = "127.0.0.1:1"
    _, sub = github_subscription(osmo_sqlite)
    body = body_of({"action": "opened"})

    response = await osmo_sqlite.client.post(
        f"/webhooks/subscriptions/{sub}", content=body, headers=github_signed(body)
    )

    assert response.status_code == 503
    assert response.json()["key"] == "temporal_unavailable"
    [entry] = logs(osmo_sqlite)
    assert (entry.status, entry.response_status) == ("failed", 503)


def stripe_setup(osmo: Osmo) -> tuple[str, str, str, str]:
    """Two customers' Stripe connections (Connect accounts acct_a, acct_b) of one
    integration, each with a subscribed webhook subscription."""
    integration_id = integration(
        osmo, "stripe", "stripe", webhookSigningSecret="whsec_test_0123456789"
    )
    a = connection(osmo, integration_id, "alpha", "api-key", {"stripe_user_id": "acct_a"})
    b = connection(osmo, integration_id, "beta", "api-key", {"stripe_user_id": "acct_b"})
    return a, subscription(osmo, a), b, subscription(osmo, b)


async def test_app_level_webhook_goes_to_the_connection_its_account_names(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    _, sub_a, b, sub_b = stripe_setup(osmo_sqlite)
    event = {"id": "evt_1", "type": "customer.created", "account": "acct_b", "data": {}}
    body = body_of(event)

    response = await osmo_sqlite.client.post(
        "/webhooks/integrations/stripe", content=body, headers=stripe_signed(body)
    )

    assert response.status_code == 200, response.text
    assert response.json()["subscriptionIds"] == [sub_b]
    [delivery] = await delivered_signals(osmo_sqlite, sub_b)
    assert delivery["events"] == [event]
    assert not await inbox_exists(env.client, sub_a)
    [entry] = logs(osmo_sqlite)
    assert (entry.status, entry.connection_id) == ("delivered", b)
    assert entry.headers["stripe-signature"] == "[REDACTED]"


async def test_app_level_webhook_nobody_takes_is_logged_unrouted(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    stripe_setup(osmo_sqlite)
    body = body_of({"id": "evt_2", "type": "customer.created", "account": "acct_zzz"})

    response = await osmo_sqlite.client.post(
        "/webhooks/integrations/stripe", content=body, headers=stripe_signed(body)
    )

    assert response.status_code == 202
    assert response.json()["status"] == "unrouted"
    [entry] = logs(osmo_sqlite)
    assert entry.status == "unrouted" and entry.customer_id is None
    assert entry.body is not None and "acct_zzz" in entry.body


async def test_replayed_old_timestamp_and_forged_signature_are_401(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    _, _, _, sub_b = stripe_setup(osmo_sqlite)
    body = body_of({"id": "evt_3", "type": "customer.created", "account": "acct_b"})

    old = stripe_signed(body, at=time.time() - 3600)  # validly signed, an hour ago
    forged = stripe_signed(body, secret="whsec_guess")
    for headers in (old, forged):
        response = await osmo_sqlite.client.post(
            "/webhooks/integrations/stripe", content=body, headers=headers
        )
        assert response.status_code == 401, response.text
        assert response.json()["key"] == "invalid_signature"
    assert [e.status for e in logs(osmo_sqlite)] == ["rejected", "rejected"]
    assert not await inbox_exists(env.client, sub_b)


async def test_unknown_integration_is_404(osmo_sqlite: Osmo) -> None:
    response = await osmo_sqlite.client.post("/webhooks/integrations/nope", content=b"{}")
    assert response.status_code == 404
    assert response.json()["key"] == "webhook_integration_not_found"


async def test_handshake_is_answered_and_its_secret_kept_for_signatures(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    """Asana: while the webhook is being registered, Asana posts `X-Hook-Secret` (unsigned);
    Osmo echoes it, keeps it encrypted, and checks later deliveries' `X-Hook-Signature` (hex
    HMAC-SHA256 of the body) with it."""
    use_temporal(osmo_sqlite, env.client)
    integration_id = integration(osmo_sqlite, "asana", "asana")
    conn = connection(osmo_sqlite, integration_id, "acme", "oauth2", {"access_token": "a-tok"})
    sub = subscription(osmo_sqlite, conn, state="error")  # registration not finished yet

    shake = await osmo_sqlite.client.post(
        f"/webhooks/subscriptions/{sub}", content=b"", headers={"X-Hook-Secret": "hs-123456"}
    )
    assert shake.status_code == 200, shake.text
    assert shake.headers["x-hook-secret"] == "hs-123456"
    with Session(osmo_sqlite.services.engine) as session:
        row = session.get(EventSubscription, sub)
        assert row is not None and row.webhook_secret_encrypted
        assert "hs-123456" not in row.webhook_secret_encrypted
        row.state = "subscribed"
        session.add(row)
        session.commit()
    body = body_of({"events": [{"action": "changed", "resource": {"gid": "1"}}]})

    def asana_signed(secret: str) -> dict[str, str]:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hook-Signature": digest, "Content-Type": "application/json"}

    path = f"/webhooks/subscriptions/{sub}"
    wrong = await osmo_sqlite.client.post(path, content=body, headers=asana_signed("guess"))
    assert wrong.status_code == 401
    right = await osmo_sqlite.client.post(path, content=body, headers=asana_signed("hs-123456"))
    assert right.status_code == 200, right.text
    assert [e.status for e in logs(osmo_sqlite)] == ["handshake", "rejected", "delivered"]
    [delivery] = await delivered_signals(osmo_sqlite, sub)
    assert delivery["body"]["events"][0]["resource"] == {"gid": "1"}
