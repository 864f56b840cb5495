"""connect sessions; OAuth state bound to a browser and a connect session

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_sessions",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("integration_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("connection_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("auth_option_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("allow_multiple", sa.Boolean(), nullable=False),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("connect_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_sessions_token_hash"), ["token_hash"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_connect_sessions_customer_id"), ["customer_id"], unique=False
        )
    # States issued before this migration have no browser and are refused at the callback;
    # they live minutes, so the customer simply starts again.
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("connect_session_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.drop_column("connect_session_id")
        batch_op.drop_column("browser_hash")
    with op.batch_alter_table("connect_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_sessions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_connect_sessions_token_hash"))
    op.drop_table("connect_sessions")
