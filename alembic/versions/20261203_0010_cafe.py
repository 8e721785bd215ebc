"""Café: menu, till sessions, sales, refunds, pay-it-forward

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the cafe module's issue, landing this session


def downgrade() -> None:
    pass
