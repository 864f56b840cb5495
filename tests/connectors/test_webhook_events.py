"""Splitting a delivery into events, naming them (id, type) and the webhook spec's rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.registry import load_connector
from connectors.runtime.webhooks import event_id, event_type, route_event, split_events
from connectors.spec import WebhookSignature, WebhookSpec
from connectors.spec.webhooks import HandshakeMatch

CONNECTORS = Path(__file__).parents[2] / "connectors"


def spec(key: str) -> WebhookSpec:
    webhooks = load_connector(CONNECTORS / key / "connector.yaml").webhooks
    assert webhooks is not None
    return webhooks


def sha256_of_canonical_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_batched_deliveries_are_split() -> None:
    asana = {"events": [{"action": "added", "created_at": "1"}, {"action": "changed"}]}
    assert split_events(spec("asana"), asana) == asana["events"]
    assert split_events(spec("asana"), json.dumps(asana).encode()) == asana["events"]
    # Asana's heartbeat: no events.
    assert split_events(spec("asana"), {"events": []}) == []
    assert split_events(spec("asana"), {}) == []
    hubspot = [{"eventId": 1, "portalId": 7}, {"eventId": 2, "portalId": 8}]
    assert split_events(spec("hubspot"), json.dumps(hubspot)) == hubspot


def test_single_event_deliveries_are_one_event() -> None:
    body = {"type": "event_callback", "event_id": "Ev1", "team_id": "T1"}
    assert split_events(spec("slack"), body) == [body]
    assert split_events(spec("github"), b'{"action":"opened"}') == [{"action": "opened"}]
    assert split_events(spec("github"), b"not json") == ["not json"]


def test_event_id_from_the_header_when_the_app_sends_one() -> None:
    headers = {
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Event": "issues",
    }
    assert event_id(spec("github"), {"action": "opened"}, headers) == headers["x-github-delivery"]
    assert event_type(spec("github"), {"action": "opened"}, headers) == "issues"
    assert event_id(spec("jira"), {}, {"X-Atlassian-Webhook-Identifier": "1-2"}) == "1-2"
    assert event_id(spec("gitlab"), {}, {"Idempotency-Key": "k-1"}) == "k-1"


def test_event_id_from_the_event() -> None:
    assert event_id(spec("stripe"), {"id": "evt_1", "type": "charge.succeeded"}) == "evt_1"
    assert (
        event_type(spec("stripe"), {"id": "evt_1", "type": "charge.succeeded"})
        == "charge.succeeded"
    )
    slack = {"event_id": "Ev08MFMKH6", "event": {"type": "message"}}
    assert event_id(spec("slack"), slack) == "Ev08MFMKH6"
    assert event_type(spec("slack"), slack) == "message"
    clickup = {"event": "taskUpdated", "history_items": [{"id": "2800763136717140857"}]}
    assert event_id(spec("clickup"), clickup) == "2800763136717140857"
    assert event_id(spec("trello"), {"action": {"id": "5f1", "type": "updateCard"}}) == "5f1"


def test_event_id_falls_back_to_the_content_hash() -> None:
    deleted = {"event": "taskDeleted", "task_id": "9hv", "webhook_id": "w1"}
    assert event_id(spec("clickup"), deleted) == sha256_of_canonical_json(deleted)
    # The same event, keys in another order, has the same id; another event another one.
    reordered = {"webhook_id": "w1", "task_id": "9hv", "event": "taskDeleted"}
    assert event_id(spec("clickup"), reordered) == event_id(spec("clickup"), deleted)
    assert event_id(spec("clickup"), {**deleted, "task_id": "9hw"}) != event_id(
        spec("clickup"), deleted
    )
    # GitHub without its delivery header.
    assert event_id(spec("github"), {"a": "é"}, {}) == sha256_of_canonical_json({"a": "é"})


def test_redelivery_counters_do_not_change_the_id() -> None:
    first = {"eventId": 100, "portalId": 7, "objectId": 5, "occurredAt": 1, "attemptNumber": 0}
    retry = {**first, "attemptNumber": 3}
    hubspot = spec("hubspot")
    assert event_id(hubspot, first) == event_id(hubspot, retry)
    assert event_id(hubspot, first) == sha256_of_canonical_json(
        {k: v for k, v in first.items() if k != "attemptNumber"}
    )
    assert event_id(hubspot, {**first, "occurredAt": 2}) != event_id(hubspot, first)
    assert first["attemptNumber"] == 0  # the event itself is untouched

    v2 = {"meta": {"action": "change", "entity": "deal", "entity_id": 1, "attempt": 1}, "data": {}}
    v2_retry = {**v2, "meta": {**v2["meta"], "attempt": 2}}
    pipedrive = spec("pipedrive")
    assert event_id(pipedrive, v2) == event_id(pipedrive, v2_retry)
    v1 = {"meta": {"action": "updated", "id": 1}, "current": {"x": 1}, "retry": 0}
    assert event_id(pipedrive, v1) == event_id(pipedrive, {**v1, "retry": 1})
    # meta.id is the deal's id: two changes of one deal are two events.
    assert event_id(pipedrive, v1) != event_id(pipedrive, {**v1, "current": {"x": 2}})


def test_event_type_is_none_when_nothing_names_it() -> None:
    assert event_type(spec("airtable"), {"base": {"id": "app1"}}) is None


def test_app_level_events_are_routed_by_the_connector_rule() -> None:
    routing = spec("hubspot").routing
    assert routing is not None
    connections: list[tuple[str, dict[str, Any]]] = [
        ("c1", {"credentials": {"hubId": 62515}}),
        ("c2", {"credentials": {"hubId": 99}}),
    ]
    assert route_event(routing, {"portalId": 99}, connections) == "c2"
    assert route_event(routing, {"portalId": 1}, connections) is None


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (WebhookSpec, {"eventsPath": "events", "eventIdHeader": "X-Id"}, "eventIdHeader"),
        (WebhookSpec, {"scope": "app"}, "routing"),
        (
            WebhookSignature,
            {"algorithm": "basic-auth", "secret": "{{ webhook.secret }}"},
            "username",
        ),
        (WebhookSignature, {"secret": "{{ webhook.secret }}"}, "needs `header`"),
        (HandshakeMatch, {}, "matches on"),
        (HandshakeMatch, {"bodyValue": "x", "method": "POST"}, "bodyPath"),
    ],
)
def test_inconsistent_webhook_specs_are_rejected(
    model: Any, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(data)
