"""What each role's home page shows: read-only figures drawn from the core's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.models import Organisation, OrganisationKind, Role, User
from hub.services import audit
from hub.services.organisations import organisation_out


async def organisations_by_kind(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(
        select(Organisation.kind, func.count())
        .where(Organisation.active.is_(True))
        .group_by(Organisation.kind)
    )
    counts = {kind.value: 0 for kind in OrganisationKind}
    counts.update({kind: count for kind, count in rows.all()})
    return counts


async def summary_for(db: AsyncSession, identity: Identity) -> dict[str, Any]:
    """Bounded queries per role; nothing here writes."""
    summary: dict[str, Any] = {"role": identity.role.value}
    if identity.role in (Role.ADMIN, Role.RECEPTIONIST, Role.TRUSTEE):
        by_kind = await organisations_by_kind(db)
        summary["organisations_by_kind"] = by_kind
        summary["organisations_total"] = sum(by_kind.values())
    if identity.role == Role.RECEPTIONIST:
        recent = await db.scalars(
            select(Organisation)
            .where(Organisation.active.is_(True))
            .order_by(Organisation.created_at.desc())
            .limit(5)
        )
        summary["recent_organisations"] = [organisation_out(o) for o in recent]
    if identity.role == Role.ADMIN:
        rows = await db.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
        )
        summary["users_by_role"] = {role: count for role, count in rows.all()}
        summary["locked_users"] = await db.scalar(
            select(func.count()).select_from(User).where(User.locked_until > utcnow())
        )
        summary["recent_audit"] = (await audit.list_entries(db, per_page=8)).items
    if identity.role == Role.TENANT and identity.organisation_id is not None:
        org = await db.get(Organisation, identity.organisation_id)
        summary["organisation"] = organisation_out(org) if org else None
    return summary
