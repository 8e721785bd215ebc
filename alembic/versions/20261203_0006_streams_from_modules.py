"""income streams come from the modules: drop the fixed list on charges.stream

The streams a charge may earn into are what the modules declare (hub.modules.IncomeStream),
checked by the money services against the app's registry; the database no longer fixes the
list. Existing rows keep their codes. Downgrading puts the old list back, and refuses while any
charge earns into a stream outside it.

PostgreSQL drops and adds the constraint in place. SQLite cannot alter a constraint: Alembic's
batch mode would copy the table and drop the original, which other tables' foreign keys
(invoice_lines.charge_id) forbid while foreign keys are on — and they cannot be turned off
inside the migration's transaction. So on SQLite the table's definition is rewritten as SQLite's
ALTER TABLE documentation prescribes for removing a CHECK constraint (writable_schema, then a
schema_version bump); adding it back is checked against every row first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:00:00
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_charges_stream_allowed"
OLD_STREAMS = ("room_hire", "rent", "service_charge", "cafe", "other")
OLD_CHECK = "stream IN ({})".format(", ".join(f"'{code}'" for code in OLD_STREAMS))
_SQLITE_CHECK = re.compile(r",\s*CONSTRAINT " + NAME + r" CHECK \((?:[^()]|\([^()]*\))*\)")


def _rewrite_sqlite_charges(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'charges'"
    ).scalar_one()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'charges'"),
        {"sql": change(sql)},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _without_check(sql: str) -> str:
    changed, found = _SQLITE_CHECK.subn("", sql)
    if found != 1:
        raise RuntimeError(f"expected one {NAME} in the charges table's definition, found {found}")
    return changed


def _with_check(sql: str) -> str:
    body = sql.rstrip()
    if not body.endswith(")") or NAME in body:
        raise RuntimeError(f"cannot add {NAME} to the charges table's definition")
    return f"{body[:-1].rstrip()}, \n\tCONSTRAINT {NAME} CHECK ({OLD_CHECK})\n)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_charges(_without_check)
        return
    op.drop_constraint(op.f(NAME), "charges", type_="check")


def downgrade() -> None:
    charges = sa.table("charges", sa.column("stream", sa.String))
    outside = op.get_bind().execute(
        sa.select(charges.c.stream)
        .where(charges.c.stream.not_in(OLD_STREAMS))
        .distinct()
        .order_by(charges.c.stream)
    )
    codes = [str(code) for (code,) in outside]
    if codes:
        raise RuntimeError(
            f"charges earn into streams 0005 does not know ({', '.join(codes)}): cannot go below 0006"
        )
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_charges(_with_check)
        return
    op.create_check_constraint(op.f(NAME), "charges", sa.text(OLD_CHECK))
