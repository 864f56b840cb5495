"""Registering, refreshing and removing webhooks with the apps (connectors/runtime/
webhook_registration.py), through the connector runtime, against vendor-shaped fakes on
loopback (tests/fakes/webhook_vendors.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorError, ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.webhook_registration import (
    event_source,
    refresh,
    register,
    unregister,
)
from connectors.runtime.webhooks import (
    WebhookVerificationError,
    verify_request,
    verify_signature,
)
from connectors.spec import WebhookSignature
from connectors.spec.collections import FullScan, WebhookEvents
from tests.connectors.harness import MemoryCredentialStore, builtin_registry
from tests.fakes import serve
from tests.fakes.webhook_vendors import (
    Asana,
    GitHub,
    Jira,
    Pipedrive,
    Receiver,
    Stripe,
    Trello,
    Vendor,
    VendorTransport,
)

CLOUD_ID = "0b5c2a38-6b4e-4f8a-9a55-2a1f3c7e9d10"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[dict[str, Vendor], Receiver, str]]:
    """Every vendor fake and the stand-in ingress, each on its own loopback port."""
    fakes: dict[str, Vendor] = {
        "github": GitHub(),
        "asana": Asana(),
        "pipedrive": Pipedrive(),
        "trello": Trello(),
        "stripe": Stripe(),
        "jira": Jira(),
    }
    receiver = Receiver()
    with ExitStack() as stack:
        urls = {name: stack.enter_context(serve(fake.app)) for name, fake in fakes.items()}
        ingress = stack.enter_context(serve(receiver.app))
        for name, fake in fakes.items():
            fake.base_url = urls[name]  # type: ignore[attr-defined]
        yield fakes, receiver, ingress


@pytest.fixture
def vendors(
    served: tuple[dict[str, Vendor], Receiver, str],
) -> tuple[dict[str, Vendor], Receiver, str]:
    """The served fakes, with nothing registered or received yet."""
    fakes, receiver, _ = served
    for fake in fakes.values():
        fake.hooks.clear()
        fake.deleted.clear()
        fake.requests.clear()
        fake.fail_next.clear()
    receiver.handshakes.clear()
    receiver.heads.clear()
    receiver.deliveries.clear()
    receiver.refuse_handshakes = False
    return served


@asynccontextmanager
async def connected(
    fakes: dict[str, Vendor],
    connector_key: str,
    auth_key: str,
    inputs: dict[str, Any],
    credentials: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[ConnectorRuntime, ConnectionContext]]:
    """The runtime (its requests for the vendors' hosts sent to the fakes) and a context."""
    registry: ConnectorRegistry = builtin_registry()
    connector = registry.get(connector_key)
    assert connector is not None
    auth = connector.auth_option(auth_key)
    assert auth is not None
    transport = VendorTransport(
        {fake.host: fake.base_url for fake in fakes.values()}  # type: ignore[attr-defined]
    )
    runtime = ConnectorRuntime(
        registry,
        MemoryCredentialStore(dict(credentials or {}), None),
        MemoryApiLogSink(),
        transport=transport,
    )
    ctx = ConnectionContext(
        connector=connector,
        auth=auth,
        customer_id="customer-1",
        integration_key=connector_key,
        client_id="client-id",
        client_secret="trello-app-secret",
        integration_parameters={},
        scopes=[],
        inputs=inputs,
        credentials=dict(credentials or {}),
        credentials_version=1,
        token_expires_at=None,
        connection_id="connection-1",
    )
    try:
        yield runtime, ctx
    finally:
        await runtime.aclose()


def webhook_spec(ctx: ConnectionContext, collection: str, event: str) -> WebhookEvents:
    spec = event_source(ctx.connector, event, collection)
    assert isinstance(spec, WebhookEvents) and spec.subscribe is not None
    return spec


async def test_github_registers_a_repository_hook_signed_with_osmos_secret(vendors) -> None:
    fakes, receiver, ingress = vendors
    github = fakes["github"]
    async with connected(fakes, "github", "personal-access-token", {"token": "ghp_x"}) as (
        runtime,
        ctx,
    ):
        spec = webhook_spec(ctx, "issues", "data-record-created")
        url, secret = f"{ingress}/webhooks/subscriptions/s1", secrets.token_urlsafe(32)
        params = {"owner": "octo", "repo": "hello"}
        registration = await register(runtime, ctx, spec, params, url, secret)
        hook = github.only_hook()
        assert (registration.id, registration.url, registration.secret) == (hook.id, url, None)
        assert registration.public() == {"id": hook.id, "url": url, "expiresAt": None}
        assert (hook.url, hook.secret, hook.events) == (url, secret, ["issues"])
        assert hook.detail["repo"] == "octo/hello"

        # What GitHub signs, Osmo's verifier accepts with the secret Osmo registered.
        answer = await github.deliver(hook, "issues", {"action": "opened", "issue": {"number": 1}})  # type: ignore[attr-defined]
        assert answer.status_code == 200
        (_, headers, body) = receiver.deliveries[-1]
        assert ctx.connector.webhooks and ctx.connector.webhooks.signature
        verify_signature(
            ctx.connector.webhooks.signature, headers, body, {"webhook": {"secret": secret}}
        )
        with pytest.raises(WebhookVerificationError):
            verify_signature(
                ctx.connector.webhooks.signature, headers, body, {"webhook": {"secret": "other"}}
            )

        assert await unregister(runtime, ctx, spec, params, registration.public()) is True
        assert github.hooks == {} and github.deleted == [hook.id]
        # Gone already (deleted by hand at GitHub, or a retried pass): fine.
        assert await unregister(runtime, ctx, spec, params, registration.public()) is False


async def test_github_refusal_is_a_normalized_error(vendors) -> None:
    fakes, _, ingress = vendors
    fakes["github"].fail_next.append((403, {"message": "Resource not accessible"}))
    async with connected(fakes, "github", "personal-access-token", {"token": "ghp_x"}) as (
        runtime,
        ctx,
    ):
        spec = webhook_spec(ctx, "issues", "data-record-created")
        with pytest.raises(ConnectorError) as raised:
            await register(runtime, ctx, spec, {"owner": "o", "repo": "r"}, ingress, "s")
    assert raised.value.upstream_status == 403 and not raised.value.retryable


async def test_asana_handshake_happens_during_the_creation(vendors) -> None:
    fakes, receiver, ingress = vendors
    asana = fakes["asana"]
    async with connected(fakes, "asana", "personal-access-token", {"accessToken": "1/x"}) as (
        runtime,
        ctx,
    ):
        spec = webhook_spec(ctx, "tasks", "data-record-updated")
        url = f"{ingress}/webhooks/subscriptions/s2"
        registration = await register(runtime, ctx, spec, {"projectId": "p1"}, url, "unused")
        hook = asana.only_hook()
        assert registration.id == hook.id and registration.secret is None
        # The secret Asana signs with is the one it handed over in the handshake.
        assert receiver.handshakes["s2"] == hook.secret
        assert hook.detail["resource"] == "p1"
        assert hook.detail["filters"] == [{"resource_type": "task", "action": "changed"}]
        await asana.deliver(hook, [{"action": "changed", "resource": {"gid": "t1"}}])  # type: ignore[attr-defined]
        (_, headers, body) = receiver.deliveries[-1]
        assert ctx.connector.webhooks and ctx.connector.webhooks.signature
        verify_signature(
            ctx.connector.webhooks.signature, headers, body, {"webhook": {"secret": hook.secret}}
        )
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is True
        assert asana.deleted == [hook.id]

        receiver.refuse_handshakes = True
        with pytest.raises(ConnectorError) as raised:
            await register(runtime, ctx, spec, {"projectId": "p1"}, url, "unused")
        assert raised.value.upstream_status == 400 and asana.hooks == {}


async def test_pipedrive_webhook_with_basic_auth_credentials(vendors) -> None:
    fakes, receiver, ingress = vendors
    pipedrive = fakes["pipedrive"]
    inputs = {"companyDomain": "acme", "apiToken": "token-123"}
    async with connected(fakes, "pipedrive", "api-token", inputs) as (runtime, ctx):
        spec = webhook_spec(ctx, "persons", "data-record-created")
        url, secret = f"{ingress}/webhooks/subscriptions/s3", secrets.token_urlsafe(32)
        registration = await register(runtime, ctx, spec, {}, url, secret)
        hook = pipedrive.only_hook()
        assert registration.id == hook.id
        assert hook.events == ["create.person"]
        assert (hook.detail["user"], hook.detail["password"]) == ("osmo", secret)
        await pipedrive.deliver(hook, {"meta": {"action": "create", "entity": "person"}})  # type: ignore[attr-defined]
        (_, headers, _) = receiver.deliveries[-1]
        assert headers["authorization"].startswith("Basic ")
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is True
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is False


async def test_trello_checks_the_callback_url_first(vendors) -> None:
    fakes, receiver, ingress = vendors
    trello = fakes["trello"]
    inputs = {"apiKey": "0" * 32, "apiToken": "trello-token"}
    async with connected(fakes, "trello", "api-key", inputs) as (runtime, ctx):
        spec = webhook_spec(ctx, "cards", "data-record-created")
        url = f"{ingress}/webhooks/subscriptions/s4"
        registration = await register(runtime, ctx, spec, {"boardId": "b1"}, url, "unused")
        hook = trello.only_hook()
        assert registration.id == hook.id and hook.detail["idModel"] == "b1"
        assert receiver.heads == ["s4"]
        with pytest.raises(ConnectorError):  # a callback URL that does not answer HEAD 200
            await register(runtime, ctx, spec, {"boardId": "b1"}, f"{ingress}/nowhere", "x")
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is True
        assert trello.hooks == {}


async def test_stripe_endpoint_returns_the_signing_secret(vendors) -> None:
    fakes, receiver, ingress = vendors
    stripe = fakes["stripe"]
    async with connected(fakes, "stripe", "api-key", {"apiKey": "sk_test_abc"}) as (
        runtime,
        ctx,
    ):
        spec = webhook_spec(ctx, "invoices", "data-record-updated")
        url = f"{ingress}/webhooks/subscriptions/s5"
        registration = await register(runtime, ctx, spec, {}, url, "osmo-made")
        hook = stripe.only_hook()
        assert registration.id == hook.id and registration.secret == hook.secret
        assert hook.secret and hook.secret.startswith("whsec_")
        assert "invoice.paid" in hook.events and "invoice.created" not in hook.events
        await stripe.deliver(hook, {"id": "evt_1", "type": "invoice.paid"})  # type: ignore[attr-defined]
        (_, headers, body) = receiver.deliveries[-1]
        signature = WebhookSignature(
            header="Stripe-Signature",
            header_format="stripe",
            payload="{timestamp}.{body}",
            secret="{{ webhook.secret }}",
        )
        verify_signature(signature, headers, body, {"webhook": {"secret": registration.secret}})
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is True
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is False


async def test_jira_dynamic_webhook_expires_and_is_refreshed(vendors) -> None:
    fakes, _, ingress = vendors
    jira = fakes["jira"]
    token = {"access_token": "jira-token", "token_type": "Bearer"}
    async with connected(fakes, "jira", "oauth2", {"cloudId": CLOUD_ID}, token) as (runtime, ctx):
        spec = webhook_spec(ctx, "issues", "data-record-created")
        url = f"{ingress}/webhooks/subscriptions/s6"
        registration = await register(runtime, ctx, spec, {"projectKey": "OSMO"}, url, "x")
        hook = jira.only_hook()
        assert registration.id == hook.id
        assert hook.detail["jqlFilter"] == 'project = "OSMO"'
        assert hook.events == ["jira:issue_created"]
        assert registration.expires_at is not None
        expires = datetime.fromisoformat(registration.expires_at)
        assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)

        hook.expires_at = datetime.now(UTC) + timedelta(days=2)
        renewed = await refresh(runtime, ctx, spec, {}, registration.public())
        assert renewed.id == hook.id and renewed.expires_at is not None
        assert hook.expires_at > datetime.now(UTC) + timedelta(days=29)
        assert abs(datetime.fromisoformat(renewed.expires_at) - hook.expires_at) < timedelta(
            seconds=1
        )
        assert await unregister(runtime, ctx, spec, {}, registration.public()) is True
        assert jira.hooks == {} and jira.deleted == [hook.id]

    # Dynamic webhooks are for OAuth 2.0 apps: an API token connection is refused.
    basic = {"email": "a@b.co", "apiToken": "x" * 20, "cloudId": CLOUD_ID}
    async with connected(fakes, "jira", "api-token", basic) as (runtime, ctx):
        with pytest.raises(ConnectorError) as raised:
            await register(runtime, ctx, spec, {"projectKey": "OSMO"}, ingress, "x")
        assert raised.value.upstream_status == 403


def test_event_sources_of_the_connectors() -> None:
    registry = builtin_registry()
    hubspot = registry.get("hubspot")
    asana = registry.get("asana")
    assert hubspot is not None and asana is not None
    # HubSpot's webhooks are the app's: nothing to register per connection.
    app_level = event_source(hubspot, "data-record-created", "contacts")
    assert isinstance(app_level, WebhookEvents) and app_level.subscribe is None
    assert isinstance(event_source(asana, "data-record-deleted", "users"), FullScan)
    assert event_source(asana, "data-record-created", "no-such-collection") is None
    # Every declared registration can be removed again.
    for key in ("github", "asana", "pipedrive", "trello", "stripe", "jira"):
        connector = registry.get(key)
        assert connector is not None
        for collection in connector.data_collections:
            for name in ("created", "updated", "deleted"):
                source = getattr(collection.events, name)
                if isinstance(source, WebhookEvents) and source.subscribe is not None:
                    assert source.unsubscribe is not None, (key, collection.key, name)


async def test_deliveries_pass_the_connectors_verification_with_the_registered_secret(
    vendors,
) -> None:
    """What each app signs with what the registration gave (Osmo's secret, the handshake's,
    the app's application secret) is what the connector's `webhooks` section verifies; a
    tampered body is refused."""
    fakes, receiver, ingress = vendors
    cases: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], Any]] = [
        ("github", "personal-access-token", {"token": "ghp_x"}, "issues", "data-record-created",
         {"owner": "o", "repo": "r"}, {"action": "opened", "issue": {"number": 1}}),
        ("asana", "personal-access-token", {"accessToken": "1/x"}, "tasks", "data-record-created",
         {"projectId": "p1"}, [{"action": "added", "resource": {"gid": "t1"}}]),
        ("pipedrive", "api-token", {"companyDomain": "acme", "apiToken": "t"}, "persons",
         "data-record-created", {}, {"meta": {"action": "create", "entity": "person"}}),
        ("trello", "api-key", {"apiKey": "0" * 32, "apiToken": "t"}, "cards",
         "data-record-created", {"boardId": "b1"}, {"action": {"id": "a1", "type": "createCard"}}),
    ]  # fmt: skip
    for key, auth, inputs, collection, event, params, payload in cases:
        fake = fakes[key]
        async with connected(fakes, key, auth, inputs) as (runtime, ctx):
            spec = webhook_spec(ctx, collection, event)
            url, secret = f"{ingress}/webhooks/subscriptions/{key}", secrets.token_urlsafe(32)
            await register(runtime, ctx, spec, params, url, secret)
            hook = fake.only_hook()
            if key == "github":
                await fake.deliver(hook, "issues", payload)  # type: ignore[attr-defined]
            else:
                await fake.deliver(hook, payload)  # type: ignore[attr-defined]
            _, headers, body = receiver.deliveries[-1]
            webhooks = ctx.connector.webhooks
            assert webhooks is not None
            kept = receiver.handshakes.get(key, secret)  # Asana's comes in the handshake
            context = {
                "integration": {"clientSecret": ctx.client_secret, "parameters": {}},
                "inputs": inputs,
                "credentials": {},
                "webhook": {"secret": kept, "url": url},
            }
            verify_request(
                webhooks, method="POST", url=url, headers=headers, body=body, context=context
            )
            with pytest.raises(WebhookVerificationError):
                verify_request(
                    webhooks,
                    method="POST",
                    url=url,
                    headers=headers,
                    body=body + b" ",
                    context={**context, "webhook": {"secret": "not-it", "url": url}},
                )
            fake.hooks.clear()
