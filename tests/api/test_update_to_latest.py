"""Update-to-latest: a customized element takes its parent's newer version and keeps its changes."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.api.element_samples import FLOW
from tests.conftest import Osmo, create_crm_integration

INSTANCE = "/connections/{}/flows/notify"


async def setup(osmo: Osmo, crm) -> str:
    """The universal flow and acme's connection; returns the path of acme's flow instance."""
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    assert (await osmo.call("POST", "/flows", json=FLOW)).status_code == 201
    return INSTANCE.format((await only_connection(osmo, "acme"))["id"])


def nodes_with(nodes: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `nodes` with the value at a dotted path set (or the key removed for None)."""
    copy = deepcopy(nodes)
    *parents, last = path.split(".")
    target = copy
    for name in parents:
        target = target[name]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return copy


async def customize(osmo: Osmo, path: str, node_path: str, value: Any) -> dict[str, Any]:
    """The customer changes one place in the instance's nodes."""
    current = (await osmo.call("GET", path, tenant="acme")).json()
    response = await osmo.call(
        "PATCH",
        path,
        tenant="acme",
        json={
            "nodes": nodes_with(current["nodes"], node_path, value),
            "revision": current["revision"],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["isOutdated"] is False
    return dict(response.json())


async def change_universal(osmo: Osmo, *edits: tuple[str, Any]) -> None:
    nodes = (await osmo.call("GET", "/flows/notify")).json()["nodes"]
    for node_path, value in edits:
        nodes = nodes_with(nodes, node_path, value)
    response = await osmo.call("PATCH", "/flows/notify", json={"nodes": nodes})
    assert response.status_code == 200, response.text


async def test_update_keeps_the_customers_change_and_takes_the_rest(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    customized = await customize(osmo, path, "call.config.url", "https://acme.test/hook")
    assert customized["revision"] == 2
    await change_universal(
        osmo,
        ("call.config.method", "POST"),
        ("call.links", [{"key": "audit"}]),
        ("audit", {"type": "transform-data", "config": {"value": "audited"}}),
    )
    outdated = (await osmo.call("GET", path, tenant="acme")).json()
    assert outdated["isOutdated"] is True
    assert outdated["nodes"]["call"]["config"]["method"] == "GET"  # not followed until updated
    updated = await osmo.call(
        "POST", f"{path}/update-to-latest", tenant="acme", json={"revision": 2}
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["update"] == {"dropped": [], "conflicts": []}
    assert body["nodes"]["call"] == {
        "type": "custom-http-request",
        "config": {"method": "POST", "url": "https://acme.test/hook"},
        "links": [{"key": "audit"}],
    }
    assert body["nodes"]["audit"] == {"type": "transform-data", "config": {"value": "audited"}}
    assert body["isOutdated"] is False and body["isCustomized"] is True
    assert body["revision"] == 3
    reread = (await osmo.call("GET", path, tenant="acme")).json()
    assert reread["nodes"] == body["nodes"] and reread["isOutdated"] is False


async def test_a_change_to_a_node_deleted_upstream_is_dropped(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    await customize(osmo, path, "log.config.value", "mine")
    await change_universal(osmo, ("log", None), ("trigger.links", [{"key": "call"}]))
    updated = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme")
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["update"] == {"dropped": ["nodes.log.config.value"], "conflicts": []}
    assert set(body["nodes"]) == {"trigger", "call"}
    # nothing of the customer's is left: the instance follows the flow again
    assert body["isCustomized"] is False and body["customizations"] == {}


async def test_when_both_changed_a_field_the_customer_wins_and_it_is_reported(
    osmo: Osmo, crm
) -> None:
    path = await setup(osmo, crm)
    await customize(osmo, path, "call.config.url", "https://acme.test/hook")
    await change_universal(
        osmo, ("call.config.url", "https://hooks.example.test/b"), ("call.config.method", "PUT")
    )
    updated = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme")
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["update"] == {"dropped": [], "conflicts": ["nodes.call.config.url"]}
    assert body["nodes"]["call"]["config"] == {"method": "PUT", "url": "https://acme.test/hook"}
    assert body["isOutdated"] is False


async def test_an_invalid_merge_is_422_with_paths_and_nothing_saved(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    customized = await customize(osmo, path, "call.links", [{"key": "log"}])
    await change_universal(osmo, ("log", None), ("trigger.links", [{"key": "call"}]))
    refused = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme")
    assert refused.status_code == 422, refused.text
    assert refused.json()["key"] == "validation_error"
    assert refused.json()["data"]["errors"] == [
        {"path": "nodes.call.links[0].key", "message": "no node 'log' to link to"}
    ]
    assert "reset" in refused.json()["message"]
    unchanged = (await osmo.call("GET", path, tenant="acme")).json()
    assert unchanged["revision"] == customized["revision"]
    assert unchanged["customizations"] == customized["customizations"]
    assert unchanged["isOutdated"] is True


async def test_stale_revision_is_409_and_other_customers_get_404(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    await customize(osmo, path, "call.config.url", "https://acme.test/hook")
    await change_universal(osmo, ("call.config.method", "POST"))
    stale = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme", json={"revision": 1})
    assert stale.status_code == 409 and stale.json()["key"] == "revision_conflict"
    other = await osmo.call("POST", f"{path}/update-to-latest", tenant="globex")
    assert other.status_code == 404
    still = (await osmo.call("GET", path, tenant="acme")).json()
    assert still["revision"] == 2 and still["isOutdated"] is True


async def test_an_element_that_is_not_outdated_is_left_as_it_is(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    untouched = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme")
    assert untouched.status_code == 200, untouched.text
    assert untouched.json()["revision"] == 1 and untouched.json()["isOutdated"] is False
    customized = await customize(osmo, path, "call.config.url", "https://acme.test/hook")
    await osmo.call("PATCH", "/flows/notify", json={"name": "Notify, renamed"})
    same = await osmo.call("POST", f"{path}/update-to-latest", tenant="acme")
    assert same.status_code == 200, same.text
    assert same.json()["update"] == {"dropped": [], "conflicts": []}
    assert same.json()["revision"] == customized["revision"]
    assert same.json()["nodes"] == customized["nodes"]


async def test_reset_clears_what_the_customization_started_from(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    await customize(osmo, path, "call.config.url", "https://acme.test/hook")
    await change_universal(osmo, ("call.config.method", "POST"))
    assert (await osmo.call("GET", path, tenant="acme")).json()["isOutdated"] is True
    reset = await osmo.call("POST", f"{path}/reset", tenant="acme")
    assert reset.json()["isOutdated"] is False and reset.json()["isCustomized"] is False
    # customizing again starts from the flow as it is now, so it is not outdated
    again = await customize(osmo, path, "call.config.url", "https://acme.test/other")
    assert again["nodes"]["call"]["config"]["method"] == "POST"
    await change_universal(osmo, ("log.config.value", "sent!"))
    assert (await osmo.call("GET", path, tenant="acme")).json()["isOutdated"] is True


async def test_integration_layer_updates_from_universal_for_admins_only(osmo: Osmo, crm) -> None:
    path = await setup(osmo, crm)
    nodes = nodes_with(FLOW["nodes"], "log.config.value", "sent to crm")
    created = await osmo.call(
        "POST", "/integrations/crm/flows", json={"key": "notify", "nodes": nodes}
    )
    assert created.status_code == 201, created.text
    assert created.json()["isOutdated"] is False
    await change_universal(osmo, ("call.config.method", "POST"))
    integration_path = "/integrations/crm/flows/notify"
    assert (await osmo.call("GET", integration_path)).json()["isOutdated"] is True
    by_customer = await osmo.call("POST", f"{integration_path}/update-to-latest", tenant="acme")
    assert by_customer.status_code == 403
    updated = await osmo.call("POST", f"{integration_path}/update-to-latest")
    assert updated.status_code == 200, updated.text
    assert updated.json()["nodes"]["log"]["config"]["value"] == "sent to crm"
    assert updated.json()["nodes"]["call"]["config"]["method"] == "POST"
    assert updated.json()["isOutdated"] is False and updated.json()["revision"] == 2
    # the uncustomized instance below follows the integration flow live
    instance = (await osmo.call("GET", path, tenant="acme")).json()
    assert instance["nodes"] == updated.json()["nodes"] and instance["isOutdated"] is False


async def test_an_element_without_a_parent_layer_is_400(osmo: Osmo, crm) -> None:
    await setup(osmo, crm)
    solo = {**FLOW, "key": "solo"}
    assert (await osmo.call("POST", "/integrations/crm/flows", json=solo)).status_code == 201
    response = await osmo.call("POST", "/integrations/crm/flows/solo/update-to-latest")
    assert response.status_code == 400 and response.json()["key"] == "no_parent_layer"
