"""Database engine, sessions and migrations (Alembic, for SQLite and PostgreSQL alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_db_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 30, pool_timeout: float = 30.0
) -> Engine:
    """Creates an engine; SQLite gets WAL and a busy timeout so processes can share the file.

    The pool is bounded on both backends (`pool_size` + `max_overflow` connections); a checkout
    waits at most `pool_timeout` seconds, then raises `sqlalchemy.exc.TimeoutError`, which the
    API answers as 503 `database_busy` rather than letting requests pile up.
    """
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        memory = not path or path == ":memory:" or "mode=memory" in url
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if memory else pool),  # in-memory databases live in one connection
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL stays consistent on crashes; it only skips an fsync per commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Brings the schema to the latest migration (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
