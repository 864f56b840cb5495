"""Element and data link lists come a bounded page at a time, with a cursor for the rest."""

from __future__ import annotations

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import FakeCRM


async def _all_pages(osmo: Osmo, path: str, tenant: str | None = None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await osmo.call("GET", path, params=params, tenant=tenant)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item.get("key") or item["appRecordId"] for item in body["items"]])
        cursor = body["cursor"]
        if cursor is None:
            return pages


async def test_element_lists_are_paginated(osmo: Osmo, crm: tuple[FakeCRM, str]) -> None:
    await create_crm_integration(osmo, crm[1])
    for key in ("a", "b", "c"):
        for path in ("/app-data-schemas", "/integrations/crm/app-data-schemas"):
            response = await osmo.call("POST", path, json={"key": key, "schema": {}})
            assert response.status_code == 201, response.text
    assert await _all_pages(osmo, "/app-data-schemas") == [["a", "b"], ["c"]]
    assert await _all_pages(osmo, "/integrations/crm/app-data-schemas") == [["a", "b"], ["c"]]
    assert await _all_pages(osmo, "/app-data-schemas?integrationKey=crm") == [["a", "b"], ["c"]]


async def test_data_links_are_paginated(osmo_sqlite: Osmo, crm: tuple[FakeCRM, str]) -> None:
    osmo = osmo_sqlite
    await create_crm_integration(osmo, crm[1])
    assert (await osmo.call("POST", "/data-link-tables", json={"key": "t"})).status_code == 201
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    links = f"/connections/{connection_id}/data-link-tables/t/links"
    for record in ("r1", "r2", "r3"):
        body = {"appRecordId": record, "externalRecordId": f"x-{record}"}
        response = await osmo.call("POST", links, json=body, tenant="acme")
        assert response.status_code == 201, response.text
    assert await _all_pages(osmo, links, tenant="acme") == [["r1", "r2"], ["r3"]]
