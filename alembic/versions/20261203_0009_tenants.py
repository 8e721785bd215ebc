"""Tenants: lettable units, agreements, documents, charge periods, deposits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the tenants module's issue, landing this session


def downgrade() -> None:
    pass
