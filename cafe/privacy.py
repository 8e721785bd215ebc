"""The café's part of data-protection requests (``hub.privacy.PERSONAL_DATA``).

The till names no customer. It does name its staff: who opened and closed a till session, who
rang each sale and gave each refund is kept as the account's id and a copy of its label (the
email). Erasing a staff member replaces that copy with the pseudonym; the ids, the takings and
every amount stay as they are (financial records, kept six years).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import Refund, Sale, TillSession
from hub.privacy import Person, Pseudonym, Traces


def _by(id_column: Any, label_column: Any, email: str, user_id: int | None) -> ColumnElement[bool]:
    conditions = [func.lower(label_column) == email]
    if user_id is not None:
        conditions.append(id_column == user_id)
    return or_(*conditions)


async def _count(db: AsyncSession, model: Any, condition: ColumnElement[bool]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model).where(condition)) or 0)


class CafePersonalData:
    """Follows :class:`hub.privacy.PersonalDataProvider`."""

    async def traces(self, db: AsyncSession, email: str) -> Traces:
        # Matched on the label only here: the account itself is found by the core.
        records = await _count(
            db, TillSession, _by(TillSession.opened_by_id, TillSession.opened_by_label, email, None)
        )
        records += await _count(db, Sale, _by(Sale.by_id, Sale.by_label, email, None))
        return Traces(records=records)

    async def export(self, db: AsyncSession, person: Person) -> dict[str, Any]:
        email, user_id = person.email, person.user_id
        opened = await db.scalars(
            select(TillSession.id)
            .where(_by(TillSession.opened_by_id, TillSession.opened_by_label, email, user_id))
            .order_by(TillSession.id)
        )
        closed = await db.scalars(
            select(TillSession.id)
            .where(_by(TillSession.closed_by_id, TillSession.closed_by_label, email, user_id))
            .order_by(TillSession.id)
        )
        return {
            "till_sessions_opened": list(opened),
            "till_sessions_closed": list(closed),
            "sales_rung": await _count(db, Sale, _by(Sale.by_id, Sale.by_label, email, user_id)),
            "refunds_given": await _count(db, Refund, _by(Refund.by_id, Refund.by_label, email, user_id)),
        }

    async def erase(self, db: AsyncSession, person: Person, pseudonym: Pseudonym) -> dict[str, int]:
        email, user_id = person.email, person.user_id
        counts: dict[str, int] = {}
        for key, model, id_column, label_column in (
            ("till_sessions_opened", TillSession, TillSession.opened_by_id, TillSession.opened_by_label),
            ("till_sessions_closed", TillSession, TillSession.closed_by_id, TillSession.closed_by_label),
            ("sales_rung", Sale, Sale.by_id, Sale.by_label),
            ("refunds_given", Refund, Refund.by_id, Refund.by_label),
        ):
            result = await db.execute(
                update(model)
                .where(_by(id_column, label_column, email, user_id))
                .values({label_column.key: pseudonym.name})
                .execution_options(synchronize_session=False)
            )
            counts[key] = int(getattr(result, "rowcount", 0) or 0)
        return counts


PERSONAL_DATA_PROVIDER = CafePersonalData()
