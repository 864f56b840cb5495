"""Secrets are encrypted at rest: scan the raw database for any plaintext secret."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, select
from sqlmodel import Session

from core.crypto import Encryptor, generate_key
from core.models import Connection
from core.rotation import reencrypt_all
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CRM_CLIENT, Osmo, create_crm_integration


def all_text_in_database(osmo: Osmo) -> str:
    """Every value of every row of every table, as one string."""
    metadata = MetaData()
    metadata.reflect(osmo.services.engine)
    chunks: list[str] = []
    with osmo.services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


async def test_no_plaintext_secret_anywhere_in_the_database(osmo: Osmo, crm, helpdesk) -> None:
    _, crm_url = crm
    _, desk_url = helpdesk
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    await osmo.call("GET", f"/connections/{connection_id}/proxy/api/v1/contacts", tenant="acme")
    await osmo.call(
        "POST",
        "/integrations",
        json={"key": "desk", "connectorKey": "fake-helpdesk", "parameters": {"baseUrl": desk_url}},
    )
    created = await osmo.call(
        "POST",
        "/connections",
        tenant="globex",
        json={
            "integrationKey": "desk",
            "authOptionKey": "api-key",
            "inputs": {"apiKey": "helpdesk-token-123"},
        },
    )
    assert created.status_code == 201, created.text
    credentials = osmo.services.connections.load(connection_id).credentials
    secrets = {
        CRM_CLIENT[1],
        credentials["access_token"],
        credentials["refresh_token"],
        "helpdesk-token-123",
    }
    dump = all_text_in_database(osmo)
    assert "enc1:k1:" in dump  # the secrets are there, sealed
    for secret in secrets:
        assert secret not in dump, "a plaintext secret is stored in the database"
    url = osmo.settings.database_url
    if url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in Path(url.split("///")[1]).parent.glob("osmo.db*"))
        for secret in secrets:
            assert secret.encode() not in raw, "a plaintext secret is in the SQLite file"


async def test_key_rotation_reencrypts_and_old_keys_still_decrypt(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    before = osmo.services.connections.load(connection_id).credentials
    old_keys = osmo.settings.encryption_keys
    rotated = Encryptor.from_setting(f"k2:{generate_key()},{old_keys}")
    assert reencrypt_all(osmo.services.engine, rotated) >= 3
    with Session(osmo.services.engine) as session:
        row = session.get(Connection, connection_id)
        assert row is not None and row.credentials_encrypted is not None
        assert row.credentials_encrypted.startswith("enc1:k2:")
        assert rotated.decrypt_json(row.credentials_encrypted) == before
