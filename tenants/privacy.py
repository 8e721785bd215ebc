"""Tenants' part of data-protection requests (``hub.privacy.PERSONAL_DATA``).

An agreement is between the hub and an organisation: it has no contact fields of its own (the
organisation's contacts are the core's, and handled there). A person can still be written into an
agreement's or a unit's free text (a deposit note, a reason, the permitted use, a unit's notes);
those mentioning their email are exported, and on erasure their email, names and phones in them
are replaced by the pseudonym. Rents, deposits and dates stay as they are (financial records).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.privacy import Person, Pseudonym, Traces, mentions, scrub
from tenants.models import Agreement, Unit

AGREEMENT_TEXT = ("deposit_note", "discount_reason", "end_reason", "permitted_use")


async def _agreements(db: AsyncSession, email: str) -> list[Agreement]:
    columns = [getattr(Agreement, name) for name in AGREEMENT_TEXT]
    condition = or_(*(func.lower(c).contains(email, autoescape=True) for c in columns))
    found = await db.scalars(select(Agreement).where(condition).order_by(Agreement.id))
    # The query finds a superset by substring; a whole-address match decides (jimbob@… is not bob@…).
    alone = Person(email=email)
    return [a for a in found if any(mentions(getattr(a, name), alone) for name in AGREEMENT_TEXT)]


async def _units(db: AsyncSession, email: str) -> list[Unit]:
    found = await db.scalars(
        select(Unit).where(func.lower(Unit.notes).contains(email, autoescape=True)).order_by(Unit.id)
    )
    return [u for u in found if mentions(u.notes, Person(email=email))]


class TenantsPersonalData:
    """Follows :class:`hub.privacy.PersonalDataProvider`."""

    async def traces(self, db: AsyncSession, email: str) -> Traces:
        agreements = await _agreements(db, email)
        units = await _units(db, email)
        # The audit log names agreements both ways ("tenant_agreement" for changes to the terms).
        objects = {(kind, str(a.id)) for a in agreements for kind in ("agreement", "tenant_agreement")}
        objects |= {("tenant_unit", str(u.id)) for u in units}
        return Traces(records=len(agreements) + len(units), objects=frozenset(objects))

    async def export(self, db: AsyncSession, person: Person) -> dict[str, Any]:
        return {
            "agreement_notes": [
                {
                    "reference": a.reference,
                    **{name: getattr(a, name) for name in AGREEMENT_TEXT if getattr(a, name)},
                }
                for a in await _agreements(db, person.email)
            ],
            "unit_notes": [{"unit": u.name, "notes": u.notes} for u in await _units(db, person.email)],
        }

    async def erase(self, db: AsyncSession, person: Person, pseudonym: Pseudonym) -> dict[str, int]:
        agreements = await _agreements(db, person.email)
        for agreement in agreements:
            for name in AGREEMENT_TEXT:
                value = getattr(agreement, name)
                if value:
                    setattr(agreement, name, scrub(value, person, pseudonym))
        units = await _units(db, person.email)
        for unit in units:
            unit.notes = scrub(unit.notes, person, pseudonym)
        return {"agreement_notes": len(agreements), "unit_notes": len(units)}


PERSONAL_DATA_PROVIDER = TenantsPersonalData()
