"""Query and path parameters are checked at the door: bad ones are a 422 naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session

from core.models import ExternalApiLog
from tests.conftest import Osmo


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json()["data"]["errors"])


def _log(osmo: Osmo, **fields: Any) -> str:
    with Session(osmo.services.engine, expire_on_commit=False) as session:
        log = ExternalApiLog(method="GET", url="https://example.com/x", status=200, **fields)
        session.add(log)
        session.commit()
        return log.id


async def test_an_overflowing_status_filter_is_422_not_a_500(osmo: Osmo) -> None:
    response = await osmo.call(
        "GET", "/external-api-logs", params={"status": "99999999999999999999"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["key"] == "validation_error"
    assert [e["path"] for e in _errors(response)] == ["query.status"]


async def test_a_date_without_time_zone_is_read_as_utc(osmo: Osmo) -> None:
    log_id = _log(osmo)
    today = datetime.now(UTC).date()
    for since, expected in ((today - timedelta(days=1), [log_id]), (today + timedelta(days=1), [])):
        response = await osmo.call("GET", "/external-api-logs", params={"since": str(since)})
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == expected
    naive = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    response = await osmo.call("GET", "/external-api-logs", params={"until": naive})
    assert response.status_code == 200 and response.json()["items"] == []


async def test_dates_out_of_range_are_422(osmo: Osmo) -> None:
    response = await osmo.call("GET", "/external-api-logs", params={"since": "0001-01-01"})
    assert response.status_code == 422, response.text
    assert [e["path"] for e in _errors(response)] == ["query.since"]


async def test_control_characters_in_a_query_id_are_422(osmo: Osmo) -> None:
    for params in ({"connectionId": "a\x00b"}, {"customerId": "x\ty"}):
        response = await osmo.call("GET", "/external-api-logs", params=params)
        assert response.status_code == 422, response.text
        name = next(iter(params))
        assert [e["path"] for e in _errors(response)] == [f"query.{name}"]
        assert "control characters" in response.text


async def test_an_overlong_id_is_422(osmo: Osmo) -> None:
    response = await osmo.call("GET", "/connections", params={"integrationKey": "k" * 201})
    assert response.status_code == 422, response.text
    assert [e["path"] for e in _errors(response)] == ["query.integrationKey"]


async def test_control_characters_in_a_path_parameter_are_422(osmo: Osmo) -> None:
    for path, name in (
        ("/connections/a%00b", "connection_id"),
        ("/connections/abc/proxy/%09x", "path"),
        ("/integrations/x%0Ay/actions", "integration_key"),
    ):
        response = await osmo.call("GET", path)
        assert response.status_code == 422, (path, response.text)
        assert [e["path"] for e in _errors(response)] == [name]


async def test_malformed_cursors_are_422_invalid_cursor(osmo: Osmo) -> None:
    for cursor in ("null", "!!!", "W10", "eyJ4IjogMX0"):  # not base64 / [] / {"x": 1}
        response = await osmo.call("GET", "/external-api-logs", params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        body = response.json()
        assert body["key"] == "invalid_cursor"
        assert [e["path"] for e in body["data"]["errors"]] == ["cursor"]


async def test_cursor_zero_and_empty_mean_the_start(osmo: Osmo) -> None:
    log_id = _log(osmo)
    for cursor in ("0", ""):
        response = await osmo.call("GET", "/external-api-logs", params={"cursor": cursor})
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == [log_id]


async def test_a_limit_above_the_maximum_is_clamped(osmo_sqlite: Osmo) -> None:
    for _ in range(3):
        _log(osmo_sqlite)
    response = await osmo_sqlite.call("GET", "/external-api-logs", params={"limit": 1000})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 3
    response = await osmo_sqlite.call(
        "GET", "/external-api-logs", params={"limit": "99999999999999999999"}
    )
    assert response.status_code == 200, response.text
    for bad in ("0", "-1", "x"):
        response = await osmo_sqlite.call("GET", "/external-api-logs", params={"limit": bad})
        assert response.status_code == 422, response.text
        assert [e["path"] for e in _errors(response)] == ["query.limit"]


async def test_an_unknown_route_is_404_not_found(osmo_sqlite: Osmo) -> None:
    response = await osmo_sqlite.call("GET", "/no/such/route")
    assert response.status_code == 404
    body = response.json()
    assert (body["type"], body["key"]) == ("not_found", "not_found")


async def test_nul_characters_in_a_json_body_are_422_and_write_nothing(osmo: Osmo) -> None:
    response = await osmo.call("POST", "/customers", json={"tenantKey": "a\x00b", "name": "n"})
    assert response.status_code == 422, response.text
    assert [e["path"] for e in _errors(response)] == ["tenantKey"]
    body = {"key": "k", "schema": {"properties": {"x": {"title": ["ok", "b\x00"]}}}}
    response = await osmo.call("POST", "/app-data-schemas", json=body)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in _errors(response)] == ["schema.properties.x.title[1]"]
    assert (await osmo.call("GET", "/customers")).json()["items"] == []
    assert (await osmo.call("GET", "/app-data-schemas")).json()["items"] == []
    # A backslash before `u0000` is text, not a NUL.
    response = await osmo.call("POST", "/customers", json={"tenantKey": "a\\u0000b"})
    assert response.status_code == 201, response.text
