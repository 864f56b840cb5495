"""external API logs: `state` (pending before the request is sent, then completed/failed)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows logged before this migration were written after their answer: completed.
    with op.batch_alter_table("external_api_logs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="completed",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("external_api_logs", schema=None) as batch_op:
        batch_op.drop_column("state")
