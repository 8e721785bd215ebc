"""rooms.tenant_bookable: rooms tenants may book themselves, against their included hours

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rooms", sa.Column("tenant_bookable", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no table copy, so the bookings' foreign keys stay).
    op.drop_column("rooms", "tenant_bookable")
