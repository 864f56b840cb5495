"""What belongs to a connection beyond its row, and removing it all together."""

from __future__ import annotations

from sqlmodel import Session

from core import data_links
from core.elements.store import ElementStore
from core.models import Connection


def forget_connection(session: Session, connection: Connection) -> None:
    """Deletes the connection with its element instances and data links."""
    ElementStore(session).delete_for_connection(connection.id)
    data_links.delete_for_connection(session, connection.id)
    session.delete(connection)
    session.commit()
