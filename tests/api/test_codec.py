"""The Temporal UI's codec server: admins only, CORS for the UI's origin, real payloads decoded."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from temporalio.converter import default

from api.routes.codec import COOKIE
from core.blobs import payload_codec, with_converter
from core.payload_codec import ENCODING
from tests.conftest import Osmo
from tests.temporal_env import dev_server

UI = "http://127.0.0.1:8233"
SECRET = "canary-codec-5b1e"


def as_json(payloads: list[Any]) -> dict[str, Any]:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "payloads": [
            {"metadata": {k: b64(v) for k, v in p.metadata.items()}, "data": b64(p.data)}
            for p in payloads
        ]
    }


async def sealed_body(osmo: Osmo) -> dict[str, Any]:
    """A payload as Osmo's workers write it into history."""
    plain = default().payload_converter.to_payloads([{"note": SECRET}])
    return as_json(await payload_codec(osmo.settings).encode(plain))


def decoded_data(body: dict[str, Any]) -> str:
    return base64.b64decode(body["payloads"][0]["data"]).decode()


async def test_admin_bearer_decodes_what_workers_sealed(osmo_sqlite: Osmo) -> None:
    body = await sealed_body(osmo_sqlite)
    assert SECRET not in str(body)
    response = await osmo_sqlite.call(
        "POST", "/codec/decode", json=body, headers={"Origin": UI, "X-Namespace": "default"}
    )
    assert response.status_code == 200, response.text
    assert SECRET in decoded_data(response.json())
    assert response.headers["access-control-allow-origin"] == UI
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_encode_then_decode_round_trips(osmo_sqlite: Osmo) -> None:
    plain = as_json(default().payload_converter.to_payloads([{"note": SECRET}]))
    encoded = (await osmo_sqlite.call("POST", "/codec/encode", json=plain)).json()
    meta = encoded["payloads"][0]["metadata"]
    assert base64.b64decode(meta["encoding"]) == ENCODING
    decoded = await osmo_sqlite.call("POST", "/codec/decode", json=encoded)
    assert decoded.json() == plain


async def test_customers_and_anonymous_callers_cannot_decode(osmo_sqlite: Osmo) -> None:
    body = await sealed_body(osmo_sqlite)
    customer = await osmo_sqlite.call("POST", "/codec/decode", json=body, tenant="acme")
    assert customer.status_code == 403 and SECRET not in customer.text
    anonymous = await osmo_sqlite.client.post("/codec/decode", json=body, headers={"Origin": UI})
    assert anonymous.status_code == 401 and SECRET not in anonymous.text
    assert anonymous.json()["key"] == "not_authenticated"
    # The UI sees the 401 (not an opaque CORS failure).
    assert anonymous.headers["access-control-allow-origin"] == UI
    forged = await osmo_sqlite.client.post(
        "/codec/decode", json=body, cookies={COOKIE: "not-a-token"}
    )
    assert forged.status_code == 401
    customer_cookie = await osmo_sqlite.client.post(
        "/codec/decode", json=body, cookies={COOKIE: osmo_sqlite.token("acme")}
    )
    assert customer_cookie.status_code == 403


async def test_ui_session_cookie_authorizes_the_codec_only(osmo_sqlite: Osmo) -> None:
    customer = await osmo_sqlite.call("POST", "/temporal-ui/session", tenant="acme")
    assert customer.status_code == 403 and "set-cookie" not in customer.headers
    started = await osmo_sqlite.call("POST", "/temporal-ui/session")
    assert started.status_code == 204
    cookie = started.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/codec" in cookie and "samesite=lax" in cookie.lower()
    token = started.cookies[COOKIE]
    body = await sealed_body(osmo_sqlite)
    # A browser on the UI's origin sends the cookie, not the bearer token.
    response = await osmo_sqlite.client.post(
        "/codec/decode", json=body, headers={"Origin": UI}, cookies={COOKIE: token}
    )
    assert response.status_code == 200 and SECRET in decoded_data(response.json())
    ended = await osmo_sqlite.client.delete("/temporal-ui/session")
    assert ended.status_code == 204 and f'{COOKIE}=""' in ended.headers["set-cookie"]


async def test_sign_in_form_sets_the_cookie_and_returns_to_the_ui(osmo_sqlite: Osmo) -> None:
    page = await osmo_sqlite.client.get("/temporal-ui/login")
    assert page.status_code == 200 and 'name="token"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    response = await osmo_sqlite.client.post(
        "/temporal-ui/session",
        data={"token": osmo_sqlite.token(admin=True)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == UI
    assert COOKIE in response.cookies


async def test_preflight_is_answered_for_the_ui_origin_only(osmo_sqlite: Osmo) -> None:
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    ui = await osmo_sqlite.client.options("/codec/decode", headers={"Origin": UI, **request})
    assert ui.status_code == 204
    assert ui.headers["access-control-allow-origin"] == UI
    assert ui.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in ui.headers["access-control-allow-headers"].lower()
    other = await osmo_sqlite.client.options(
        "/codec/decode", headers={"Origin": "https://evil.example", **request}
    )
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    # The UI is reached as 127.0.0.1 or as localhost: each listed origin is answered.
    osmo_sqlite.settings.temporal_ui_origin = f"{UI},http://localhost:8233"
    second = await osmo_sqlite.client.options(
        "/codec/decode", headers={"Origin": "http://localhost:8233", **request}
    )
    assert second.headers["access-control-allow-origin"] == "http://localhost:8233"
    # A response to another origin carries no CORS grant, so that page cannot read it.
    body = await sealed_body(osmo_sqlite)
    read = await osmo_sqlite.call(
        "POST", "/codec/decode", json=body, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in read.headers


async def test_payloads_that_cannot_be_decoded_come_back_as_they_are(osmo_sqlite: Osmo) -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    odd = [
        {"metadata": {"encoding": b64("binary/osmo-claim-check")}, "data": ""},
        {"metadata": {"encoding": b64("binary/osmo-claim-check"), "osmo-blob-key": b64("../x")}},
        {"metadata": {"encoding": b64("binary/encrypted")}, "data": b64("k9:garbage")},
    ]
    response = await osmo_sqlite.call("POST", "/codec/decode", json={"payloads": odd})
    assert response.status_code == 200, response.text
    assert len(response.json()["payloads"]) == 3


async def test_a_body_that_is_not_json_typed_is_refused(osmo_sqlite: Osmo) -> None:
    """A cross-site `text/plain` form post would skip the preflight: it gets nothing done."""
    body = json.dumps(await sealed_body(osmo_sqlite))
    response = await osmo_sqlite.call(
        "POST", "/codec/decode", content=body, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415 and SECRET not in response.text


async def test_bad_bodies_are_422_and_change_nothing(osmo_sqlite: Osmo) -> None:
    for body in ({"payloads": [{"data": "%%%not base64"}]}, {"nope": 1}, [1, 2]):
        response = await osmo_sqlite.call("POST", "/codec/decode", json=body)
        assert response.status_code == 422, response.text
        assert set(response.json()) == {"type", "key", "message", "data"}


def payload_texts(history_json: str) -> str:
    """The `data` of every payload in `temporal workflow show -o json` output, as text."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "data" and isinstance(item, str):
                    found.append(base64.b64decode(item).decode(errors="replace"))
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json[history_json.index("{") :]))
    return "\n".join(found)


async def test_the_temporal_cli_reads_runs_through_the_codec(osmo_sqlite: Osmo) -> None:
    """The codec protocol as Temporal's own client speaks it (the CLI, like the UI)."""
    env = await dev_server()
    try:
        client = with_converter(env.client, osmo_sqlite.settings)
        workflow_id = f"codec-{uuid.uuid4()}"
        await client.start_workflow("Nobody", {"note": SECRET}, id=workflow_id, task_queue="none")
        command = [
            str(Path(sys.executable).parent / "temporal"), "workflow", "show",
            "-w", workflow_id, "-o", "json",
            "--address", env.client.service_client.config.target_host,
        ]  # fmt: skip
        plain = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        assert plain.returncode == 0, plain.stderr
        assert SECRET not in payload_texts(plain.stdout)
        codec = ["--codec-endpoint", f"{osmo_sqlite.url}/codec"]
        admin = ["--codec-auth", f"Bearer {osmo_sqlite.token(admin=True)}"]
        decoded = await asyncio.to_thread(
            subprocess.run, [*command, *codec, *admin], capture_output=True, text=True
        )
        assert decoded.returncode == 0, decoded.stderr
        assert SECRET in payload_texts(decoded.stdout)
        customer = ["--codec-auth", f"Bearer {osmo_sqlite.token('acme')}"]
        refused = await asyncio.to_thread(
            subprocess.run, [*command, *codec, *customer], capture_output=True, text=True
        )
        assert refused.returncode != 0  # the CLI gives up on the 403s
        assert SECRET not in refused.stdout
    finally:
        await env.shutdown()


async def test_openapi_declares_the_codec_body_and_errors(osmo_sqlite: Osmo) -> None:
    spec = (await osmo_sqlite.client.get("/openapi.json")).json()
    decode = spec["paths"]["/codec/decode"]["post"]
    body = decode["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CodecBody"}
    assert {"200", "401", "403", "422"} <= set(decode["responses"])
    assert "CodecBody" in spec["components"]["schemas"]
