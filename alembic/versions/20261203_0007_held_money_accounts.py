"""ledger accounts for money held, not earned: deposits_held and deferred

Widens the check on ledger_entries.account. ledger_entries is referenced by no other table's
foreign key, so on SQLite Alembic's batch mode (copy the table, then swap) is safe — but the
copy loses the append-only triggers of 0004, so they are made again on the new table; PostgreSQL
drops and adds the constraint in place. Downgrading refuses while any entry uses the new accounts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_ledger_entries_account_allowed"
OLD = ("debtors", "income", "vat", "bank", "cash")
NEW = (*OLD, "deposits_held", "deferred")


def _check(accounts: Sequence[str]) -> str:
    return "account IN ({})".format(", ".join(f"'{code}'" for code in accounts))


def _replace(accounts: Sequence[str]) -> None:
    with op.batch_alter_table("ledger_entries", recreate="auto") as batch:
        batch.drop_constraint(op.f(NAME), type_="check")
        batch.create_check_constraint(op.f(NAME), sa.text(_check(accounts)))
    if op.get_bind().dialect.name == "sqlite":
        # The same triggers 0004 made: the ledger stays append-only on the copied table.
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS ledger_entries_no_{action.lower()} BEFORE {action} ON ledger_entries "
                f"BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: {action} refused'); END"
            )


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    entries = sa.table("ledger_entries", sa.column("account", sa.String))
    used = (
        op.get_bind()
        .execute(sa.select(sa.func.count()).select_from(entries).where(entries.c.account.not_in(OLD)))
        .scalar_one()
    )
    if used:
        raise RuntimeError(f"{used} ledger entries use accounts 0006 does not know: cannot go below 0007")
    _replace(OLD)
