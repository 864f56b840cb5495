"""Every connector's webhook signature scheme, checked against the vendor's documented scheme.

Each vendor's signing is written here independently of the verifier (the `hmac` module
directly, following the vendor's documentation), or uses the test vector the vendor publishes.
For every scheme: a genuine request passes; a wrong secret, a tampered body and a missing
header fail; where the scheme carries a time, a stale request fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import load_connector
from connectors.runtime.webhooks import WebhookVerificationError, verify_request, verify_signature
from connectors.spec import ConnectorSpec, WebhookSignature, WebhookSpec

CONNECTORS = Path(__file__).parents[2] / "connectors"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
SUBSCRIPTION_URL = "https://hooks.osmo.example/webhooks/subscriptions/sub_7Hq2"


def spec(key: str) -> WebhookSpec:
    connector: ConnectorSpec = load_connector(CONNECTORS / key / "connector.yaml")
    assert connector.webhooks is not None, key
    return connector.webhooks


def hex_hmac(secret: bytes | str, message: bytes, digest: Any = hashlib.sha256) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, digest).hexdigest()


def b64_hmac(secret: bytes | str, message: bytes, digest: Any = hashlib.sha256) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, message, digest).digest()).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    """A JWT per RFC 7519, built by hand (not with the verifier's library)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


@dataclass
class Case:
    """One vendor's scheme: how the vendor signs (`sign`), and where Osmo finds the secret."""

    key: str
    secret: str
    context: Callable[[str], dict[str, Any]]
    sign: Callable[[str, bytes, int], dict[str, str]]
    """(secret, body, epoch seconds of sending) -> the headers the vendor sends."""
    body: Callable[[int], bytes] = lambda sent: b'{"id":"evt_1","type":"thing.changed"}'
    signature_headers: list[str] = field(default_factory=list)
    url: str = SUBSCRIPTION_URL
    method: str = "POST"
    window: int | None = None
    """Seconds after which a request is stale, when the scheme carries a time."""
    wrong_secret: str | None = None
    """Another secret (default: the secret with one more character)."""


def webhook_secret(secret: str) -> dict[str, Any]:
    return {"webhook": {"secret": secret, "id": "wh_1", "url": SUBSCRIPTION_URL}}


def client_secret(secret: str) -> dict[str, Any]:
    return {"integration": {"clientId": "client-1", "clientSecret": secret, "parameters": {}}}


def parameter(name: str) -> Callable[[str], dict[str, Any]]:
    return lambda secret: {"integration": {"parameters": {name: secret}}}


HUBSPOT_URL = "https://hooks.osmo.example/webhooks/integrations/hubspot"
OAUTH = "oauth-secret-0123456789abcdef0123456789"
ADMIN = "admin-secret-0123456789abcdef0123456789"

CASES = [
    # docs.github.com "Validating webhook deliveries": sha256=hex HMAC-SHA256 of the body.
    Case(
        "github",
        "gh-secret-4Xq",
        webhook_secret,
        lambda s, body, t: {
            "X-Hub-Signature-256": "sha256=" + hex_hmac(s, body),
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        },
        signature_headers=["X-Hub-Signature-256"],
    ),
    # api.slack.com "Verifying requests from Slack": v0= hex HMAC-SHA256 of "v0:{ts}:{body}".
    Case(
        "slack",
        "8f742231b10e8888abcd99yyyzzz85a5",
        parameter("signingSecret"),
        lambda s, body, t: {
            "X-Slack-Signature": "v0=" + hex_hmac(s, f"v0:{t}:".encode() + body),
            "X-Slack-Request-Timestamp": str(t),
        },
        body=lambda t: b'{"type":"event_callback","team_id":"T1","event_id":"Ev1"}',
        signature_headers=["X-Slack-Signature", "X-Slack-Request-Timestamp"],
        window=300,
    ),
    # stripe.com/docs/webhooks/signatures: "t=<ts>,v1=<hex HMAC-SHA256 of '<ts>.<body>'>".
    Case(
        "stripe",
        "whsec_5Tq9",
        parameter("webhookSigningSecret"),
        lambda s, body, t: {
            "Stripe-Signature": f"t={t},v1={hex_hmac(s, f'{t}.'.encode() + body)},v0=abc"
        },
        signature_headers=["Stripe-Signature"],
        window=300,
    ),
    # developers.hubspot.com "Validating requests", v3: base64 HMAC-SHA256 of
    # method + URI + body + timestamp (milliseconds), rejected after 5 minutes.
    Case(
        "hubspot",
        "hubspot-client-secret-9",
        client_secret,
        lambda s, body, t: {
            "X-HubSpot-Signature-v3": b64_hmac(
                s, b"POST" + HUBSPOT_URL.encode() + body + str(t * 1000).encode()
            ),
            "X-HubSpot-Request-Timestamp": str(t * 1000),
        },
        body=lambda t: b'[{"eventId":1,"portalId":62515,"subscriptionType":"contact.creation"}]',
        signature_headers=["X-HubSpot-Signature-v3"],
        url=HUBSPOT_URL,
        window=300,
    ),
    # developer.atlassian.com/cloud/trello/guides/rest-api/webhooks: base64 HMAC-SHA1 of
    # body + callbackURL, keyed with the application's secret.
    Case(
        "trello",
        "trello-app-secret-3",
        client_secret,
        lambda s, body, t: {
            "X-Trello-Webhook": b64_hmac(s, body + SUBSCRIPTION_URL.encode(), hashlib.sha1)
        },
        body=lambda t: '{"action":{"id":"5f1","type":"updateCard","data":{"n":"café"}}}'.encode(),
        signature_headers=["X-Trello-Webhook"],
    ),
    # developers.intercom.com webhooks: X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>,
    # keyed with the app's client secret.
    Case(
        "intercom",
        "intercom-client-secret",
        client_secret,
        lambda s, body, t: {"X-Hub-Signature": "sha1=" + hex_hmac(s, body, hashlib.sha1)},
        signature_headers=["X-Hub-Signature"],
    ),
    # developer.zendesk.com "Verifying webhook authenticity": base64 HMAC-SHA256 of
    # timestamp + body; the timestamp is ISO 8601.
    Case(
        "zendesk",
        "zendesk-signing-secret",
        webhook_secret,
        lambda s, body, t: {
            "X-Zendesk-Webhook-Signature": b64_hmac(s, b"2026-01-01T00:00:00Z" + body),
            "X-Zendesk-Webhook-Signature-Timestamp": "2026-01-01T00:00:00Z",
        },
        signature_headers=["X-Zendesk-Webhook-Signature"],
    ),
    # linear.app/developers/webhooks: hex HMAC-SHA256 of the body in Linear-Signature; reject
    # a `webhookTimestamp` (ms, in the body) more than a minute away.
    Case(
        "linear",
        "lin_wh_8Kq2xR7mN4pV",
        webhook_secret,
        lambda s, body, t: {
            "Linear-Signature": hex_hmac(s, body),
            "Linear-Delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72",
            "Linear-Event": "Issue",
        },
        body=lambda t: json.dumps(
            {"action": "update", "type": "Issue", "webhookTimestamp": t * 1000}
        ).encode(),
        signature_headers=["Linear-Signature"],
        window=60,
    ),
    # clickup.com/api webhooks: X-Signature, hex HMAC-SHA256 of the body with the webhook secret.
    Case(
        "clickup",
        "clickup-webhook-secret",
        webhook_secret,
        lambda s, body, t: {"X-Signature": hex_hmac(s, body)},
        signature_headers=["X-Signature"],
    ),
    # docs.gitlab.com webhooks: the secret token is sent as is in X-Gitlab-Token.
    Case(
        "gitlab",
        "glwt-token-7",
        webhook_secret,
        lambda s, body, t: {"X-Gitlab-Token": s, "X-Gitlab-Event": "Issue Hook"},
        signature_headers=["X-Gitlab-Token"],
    ),
    # Pipedrive webhooks: HTTP basic auth (http_auth_user / http_auth_password).
    Case(
        "pipedrive",
        "pd-password-8",
        webhook_secret,
        lambda s, body, t: {
            "Authorization": "Basic " + base64.b64encode(f"osmo:{s}".encode()).decode()
        },
        signature_headers=["Authorization"],
    ),
    # developers.notion.com webhooks: X-Notion-Signature: sha256=<hex HMAC-SHA256 of the body>
    # keyed with the verification token.
    Case(
        "notion",
        "secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl",
        parameter("webhookVerificationToken"),
        lambda s, body, t: {"X-Notion-Signature": "sha256=" + hex_hmac(s, body)},
        signature_headers=["X-Notion-Signature"],
    ),
    # airtable.com/developers/web/api/webhooks-overview: X-Airtable-Content-MAC:
    # hmac-sha256=<hex>, keyed with the base64-decoded macSecretBase64.
    Case(
        "airtable",
        base64.b64encode(b"\x8a\x01airtable-mac-secret\xff").decode(),
        webhook_secret,
        lambda s, body, t: {
            "X-Airtable-Content-MAC": "hmac-sha256=" + hex_hmac(base64.b64decode(s), body)
        },
        signature_headers=["X-Airtable-Content-MAC"],
        wrong_secret=base64.b64encode(b"\x8a\x01airtable-mac-secreT\xff").decode(),
    ),
    # developers.asana.com webhooks: X-Hook-Signature, hex HMAC-SHA256 of the body keyed with
    # the X-Hook-Secret of the handshake.
    Case(
        "asana",
        "asana-hook-secret-1",
        webhook_secret,
        lambda s, body, t: {"X-Hook-Signature": hex_hmac(s, body)},
        body=lambda t: b'{"events":[{"action":"changed","resource":{"gid":"1"}}]}',
        signature_headers=["X-Hook-Signature"],
    ),
    # Jira admin webhooks: X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>.
    Case(
        "jira",
        "Zx8rT2pLq9Vw",
        parameter("webhookSecret"),
        lambda s, body, t: {
            "X-Hub-Signature": "sha256=" + hex_hmac(s, body),
            "X-Atlassian-Webhook-Identifier": "1-2",
        },
        signature_headers=["X-Hub-Signature"],
    ),
    # Jira webhooks registered by an OAuth 2.0 app: Authorization: Bearer <JWT HS256 signed
    # with the app's client secret>.
    Case(
        "jira",
        "jira-oauth-client-secret-0123456789abcdef",
        client_secret,
        lambda s, body, t: {
            "Authorization": "Bearer " + hs256_jwt({"iss": "jira", "exp": t + 60}, s),
            "X-Atlassian-Webhook-Identifier": "1-3",
        },
        signature_headers=["Authorization"],
        window=60,
    ),
]
IDS = [f"{case.key}-{i}" for i, case in enumerate(CASES)]


def check(case: Case, headers: dict[str, str], body: bytes, secret: str, now: float) -> None:
    verify_request(
        spec(case.key),
        method=case.method,
        url=case.url,
        headers=headers,
        body=body,
        context=case.context(secret),
        now=now,
    )


def test_every_connector_with_webhooks_has_a_case() -> None:
    declared = {
        path.parent.name
        for path in CONNECTORS.glob("*/connector.yaml")
        if load_connector(path).webhooks is not None
    }
    assert declared == {case.key for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_genuine_request_is_accepted(case: Case) -> None:
    body = case.body(NOW)
    check(case, case.sign(case.secret, body, NOW), body, case.secret, NOW + 5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_secret_is_rejected(case: Case) -> None:
    body = case.body(NOW)
    forged = case.sign(case.wrong_secret or case.secret + "x", body, NOW)
    with pytest.raises(WebhookVerificationError):
        check(case, forged, body, case.secret, NOW + 5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tampered_body_is_rejected(case: Case) -> None:
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    tampered = body.replace(b"1", b"2") if b"1" in body else body + b" "
    assert tampered != body
    if case.key in ("gitlab", "pipedrive") or case.signature_headers == ["Authorization"]:
        # Shared-token, basic-auth and bearer schemes do not sign the body: the token is the
        # proof, and it stays valid (TLS protects the body). Documented, not a gap.
        check(case, headers, tampered, case.secret, NOW + 5)
        return
    with pytest.raises(WebhookVerificationError, match="does not match"):
        check(case, headers, tampered, case.secret, NOW + 5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_missing_signature_header_is_rejected(case: Case) -> None:
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    stripped = {
        k: v
        for k, v in headers.items()
        if k.lower() not in {h.lower() for h in case.signature_headers}
    }
    with pytest.raises(WebhookVerificationError, match="missing"):
        check(case, stripped, body, case.secret, NOW + 5)


@pytest.mark.parametrize("case", [c for c in CASES if c.window], ids=lambda c: c.key)
def test_stale_request_is_rejected(case: Case) -> None:
    assert case.window is not None
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    check(case, headers, body, case.secret, NOW + case.window - 1)
    with pytest.raises(WebhookVerificationError, match=r"too old|expired"):
        check(case, headers, body, case.secret, NOW + case.window + 5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_garbage_in_the_signature_header_is_rejected_not_a_crash(case: Case) -> None:
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    for value in ("é\u00ff", "", "Bearer é", "Basic ###", "t=,v1=é"):
        garbled = {**headers, **{name: value for name in case.signature_headers}}
        with pytest.raises(WebhookVerificationError):
            check(case, garbled, body, case.secret, NOW + 5)


@pytest.mark.parametrize("stamp", ["nan", "inf", "-inf", "soon"])
def test_timestamps_that_are_not_times_are_rejected(stamp: str) -> None:
    body = b'{"type":"event_callback"}'
    secret = "slack-signing-secret"
    headers = {
        "X-Slack-Signature": "v0=" + hex_hmac(secret, f"v0:{stamp}:".encode() + body),
        "X-Slack-Request-Timestamp": stamp,
    }
    with pytest.raises(WebhookVerificationError, match="malformed"):
        verify_request(
            spec("slack"),
            method="POST",
            url=None,
            headers=headers,
            body=body,
            context=parameter("signingSecret")(secret),
            now=NOW,
        )


def test_header_names_are_case_insensitive() -> None:
    case = CASES[0]
    body = case.body(NOW)
    lowered = {k.lower(): v for k, v in case.sign(case.secret, body, NOW).items()}
    check(case, lowered, body, case.secret, NOW)


# -- vendor-published test vectors --------------------------------------------------------------


def test_github_published_vector() -> None:
    """docs.github.com, "Validating webhook deliveries": secret and payload of the example."""
    verify_request(
        spec("github"),
        method="POST",
        url=SUBSCRIPTION_URL,
        headers={
            "X-Hub-Signature-256": (
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
            )
        },
        body=b"Hello, World!",
        context=webhook_secret("It's a Secret to Everybody"),
    )


def test_slack_published_vector() -> None:
    """api.slack.com, "Verifying requests from Slack": the example request."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    context = parameter("signingSecret")("8f742231b10e8888abcd99yyyzzz85a5")
    kwargs: dict[str, Any] = {"method": "POST", "url": None, "body": body, "context": context}
    verify_request(spec("slack"), headers=headers, now=1531420618 + 10, **kwargs)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_request(spec("slack"), headers=headers, now=1531420618 + 301, **kwargs)


# -- what the URL- and method-signing schemes cover --------------------------------------------


def test_hubspot_signs_method_and_url() -> None:
    case = next(c for c in CASES if c.key == "hubspot")
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    check(case, headers, body, case.secret, NOW)
    other: dict[str, Any] = {"method": "POST", "headers": headers, "body": body, "now": NOW}
    context = case.context(case.secret)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_request(spec("hubspot"), url=HUBSPOT_URL + "?x=1", context=context, **other)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_request(
            spec("hubspot"),
            method="PUT",
            url=HUBSPOT_URL,
            headers=headers,
            body=body,
            context=context,
            now=NOW,
        )
    with pytest.raises(WebhookVerificationError, match="URL"):
        verify_request(spec("hubspot"), url=None, context=context, **other)


def test_hubspot_decodes_the_reserved_characters_of_the_uri() -> None:
    """HubSpot signs the URI with `%3A`, `%2F`, `%40`... decoded; others stay encoded."""
    called = HUBSPOT_URL + "?state=a%3Ab%2Fc%40d&name=x%20y"
    signed_uri = HUBSPOT_URL + "?state=a:b/c@d&name=x%20y"
    body = b"[]"
    stamp = str(NOW * 1000)
    headers = {
        "X-HubSpot-Signature-v3": b64_hmac(
            "s3", b"POST" + signed_uri.encode() + body + b"" + stamp.encode()
        ),
        "X-HubSpot-Request-Timestamp": stamp,
    }
    verify_request(
        spec("hubspot"),
        method="POST",
        url=called,
        headers=headers,
        body=body,
        context=client_secret("s3"),
        now=NOW,
    )


def test_hubspot_timestamp_is_milliseconds() -> None:
    """A seconds value in HubSpot's millisecond header reads as 1970: stale."""
    case = next(c for c in CASES if c.key == "hubspot")
    body = case.body(NOW)
    url_bytes = HUBSPOT_URL.encode()
    headers = {
        "X-HubSpot-Signature-v3": b64_hmac(
            case.secret, b"POST" + url_bytes + body + str(NOW).encode()
        ),
        "X-HubSpot-Request-Timestamp": str(NOW),
    }
    with pytest.raises(WebhookVerificationError, match="too old"):
        check(case, headers, body, case.secret, NOW)


def test_trello_signs_the_callback_url() -> None:
    case = next(c for c in CASES if c.key == "trello")
    body = case.body(NOW)
    headers = case.sign(case.secret, body, NOW)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_request(
            spec("trello"),
            method="POST",
            url=SUBSCRIPTION_URL.replace("sub_7Hq2", "sub_other"),
            headers=headers,
            body=body,
            context=case.context(case.secret),
        )


def test_jira_picks_the_scheme_whose_header_the_request_carries() -> None:
    """An admin webhook (HMAC) and an OAuth app's webhook (JWT) are both accepted; a JWT
    signed with another secret, an unsigned (`alg: none`) one and a token of another scheme
    are not."""
    webhooks = spec("jira")
    context = {
        "integration": {
            "clientSecret": OAUTH,
            "parameters": {"webhookSecret": ADMIN},
        }
    }
    body = b'{"webhookEvent":"jira:issue_created"}'
    admin = {"X-Hub-Signature": "sha256=" + hex_hmac(ADMIN, body)}
    bearer = {"Authorization": "Bearer " + hs256_jwt({"exp": NOW + 30}, OAUTH)}
    kwargs: dict[str, Any] = {
        "method": "POST",
        "url": SUBSCRIPTION_URL,
        "body": body,
        "context": context,
    }
    verify_request(webhooks, headers=admin, now=NOW, **kwargs)
    verify_request(webhooks, headers=bearer, now=NOW, **kwargs)
    for forged in (
        {"Authorization": "Bearer " + hs256_jwt({"exp": NOW + 30}, ADMIN)},
        {"Authorization": "Bearer " + hs256_jwt({"exp": NOW + 30}, OAUTH, "none")},
        {"Authorization": "Basic " + base64.b64encode(b"a:oauth-secret").decode()},
        {"Authorization": "Bearer not-a-jwt"},
    ):
        with pytest.raises(WebhookVerificationError):
            verify_request(webhooks, headers=forged, now=NOW, **kwargs)


def test_stripe_accepts_the_app_level_secret_and_a_registered_endpoints_own() -> None:
    """The app-level endpoint the product configured signs with the integration's secret;
    each endpoint Osmo registered (POST /webhook_endpoints) with the secret Stripe returned
    for it. Both pass at the subscription's URL; a third secret does not."""
    webhooks = spec("stripe")
    body = b'{"id":"evt_1","type":"customer.created","account":"acct_1"}'

    def signed(secret: str) -> dict[str, str]:
        return {"Stripe-Signature": f"t={NOW},v1={hex_hmac(secret, f'{NOW}.'.encode() + body)}"}

    app_level = {"integration": {"parameters": {"webhookSigningSecret": "whsec_app"}}}
    registered = {**app_level, "webhook": {"id": "we_1", "secret": "whsec_endpoint"}}
    kwargs: dict[str, Any] = {"method": "POST", "url": SUBSCRIPTION_URL, "body": body, "now": NOW}
    verify_request(webhooks, headers=signed("whsec_app"), context=app_level, **kwargs)
    verify_request(webhooks, headers=signed("whsec_endpoint"), context=registered, **kwargs)
    verify_request(webhooks, headers=signed("whsec_app"), context=registered, **kwargs)
    for context in (app_level, registered):
        with pytest.raises(WebhookVerificationError):
            verify_request(webhooks, headers=signed("whsec_other"), context=context, **kwargs)
    # At the integration's URL there is no endpoint secret: only the app-level one passes.
    with pytest.raises(WebhookVerificationError):
        verify_request(webhooks, headers=signed("whsec_endpoint"), context=app_level, **kwargs)


def test_pipedrive_checks_the_user_name_too() -> None:
    headers = {"Authorization": "Basic " + base64.b64encode(b"someone:pd-password-8").decode()}
    with pytest.raises(WebhookVerificationError, match="do not match"):
        verify_request(
            spec("pipedrive"),
            method="POST",
            url=SUBSCRIPTION_URL,
            headers=headers,
            body=b"{}",
            context=webhook_secret("pd-password-8"),
        )


def test_a_secret_the_context_lacks_rejects_instead_of_failing() -> None:
    """An integration without the secret configured answers 401, not a server error."""
    case = CASES[1]  # slack: integration.parameters.signingSecret
    body = case.body(NOW)
    with pytest.raises(WebhookVerificationError, match="not configured"):
        verify_request(
            spec("slack"),
            method="POST",
            url=None,
            headers=case.sign(case.secret, body, NOW),
            body=body,
            context={"integration": {"parameters": {}}},
            now=NOW,
        )


def test_payload_header_placeholders_and_method() -> None:
    scheme = WebhookSignature.model_validate(
        {
            "header": "X-Sig",
            "payload": "{method} {header:X-Request-Id} {body}",
            "secret": "{{ webhook.secret }}",
        }
    )
    body = b'{"a":1}'
    headers = {"x-sig": hex_hmac("k", b"PUT r-1 " + body), "x-request-id": "r-1"}
    kwargs: dict[str, Any] = {"url": None, "body": body, "context": webhook_secret("k")}
    verify_request(scheme, method="put", headers=headers, **kwargs)
    with pytest.raises(WebhookVerificationError, match="missing X-Request-Id"):
        verify_request(scheme, method="PUT", headers={"x-sig": headers["x-sig"]}, **kwargs)


def test_verify_signature_keeps_working_for_header_schemes() -> None:
    case = CASES[0]
    body = case.body(NOW)
    signature = spec("github").signature
    assert signature is not None
    verify_signature(
        signature, case.sign(case.secret, body, NOW), body, webhook_secret(case.secret)
    )


def test_a_section_without_a_scheme_checks_nothing() -> None:
    verify_request(
        WebhookSpec(),
        method="POST",
        url=None,
        headers={},
        body=b"{}",
        context={},
    )
