"""Group commit (core/batch_writer.py): every caller returns only once its row is committed,
rows added together share commits, and a row that cannot be written fails only its caller."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.batch_writer import BatchWriter
from core.db import create_db_engine, migrate
from core.events.models import IncomingWebhook


def webhook(row_id: str | None = None) -> IncomingWebhook:
    row = IncomingWebhook(status="delivered", method="POST", path="/webhooks/x")
    if row_id:
        row.id = row_id
    return row


async def test_rows_added_together_share_commits_and_each_is_written(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    migrate(engine)
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    writer = BatchWriter(engine)
    rows = [webhook() for _ in range(200)]
    await asyncio.gather(*(writer.add(row) for row in rows))
    with Session(engine) as session:
        stored = set(session.exec(select(IncomingWebhook.id)).all())
    assert stored == {row.id for row in rows}
    assert 1 <= len(commits) <= 20, len(commits)  # not one commit per row


async def test_a_row_that_cannot_be_written_fails_only_its_caller(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    migrate(engine)
    writer = BatchWriter(engine)
    await writer.add(webhook("taken"))
    results = await asyncio.gather(
        writer.add(webhook("a")), writer.add(webhook("taken")), writer.add(webhook("b")),
        return_exceptions=True,
    )  # fmt: skip
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError)
    with Session(engine) as session:
        assert sorted(session.exec(select(IncomingWebhook.id)).all()) == ["a", "b", "taken"]


@pytest.fixture(autouse=True)
def _quiet_batches(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="osmo.db")
