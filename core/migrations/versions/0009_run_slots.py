"""flow run slots per connection in the database (they were a `ConnectionRunLimiter` workflow)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.timestamps
import sqlmodel

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_run_queues",
        sa.Column("connection_id", sqlmodel.sql.sqltypes.AutoString(), primary_key=True),
        sa.Column("run_limit", sa.Integer(), nullable=False),
        sa.Column("queue_limit", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", core.timestamps.UtcDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "run_slots",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=255), primary_key=True),
        sa.Column("connection_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("flow_limit", sa.Integer(), nullable=True),
        sa.Column("since", core.timestamps.UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_run_slots_connection_state_seq", "run_slots", ["connection_id", "state", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_run_slots_connection_state_seq", table_name="run_slots")
    op.drop_table("run_slots")
    op.drop_table("connection_run_queues")
