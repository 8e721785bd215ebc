"""The core's home-page panels: read-only figures drawn from the core's tables, one small bounded
set of queries per panel. Each module brings its own panels (``Module.home_panels``); the home
page shows those the caller's role may see, in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.models import Organisation, OrganisationKind, User
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


async def organisations_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """Active organisations by kind, and how many in all (one query)."""
    by_kind = await organisations_by_kind(db)
    return {"organisations_by_kind": by_kind, "organisations_total": sum(by_kind.values())}


async def find_organisation_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """The five organisations added most recently (one query)."""
    recent = await db.scalars(
        select(Organisation)
        .where(Organisation.active.is_(True))
        .order_by(Organisation.created_at.desc())
        .limit(5)
    )
    return {"recent_organisations": [organisation_out(o) for o in recent]}


async def accounts_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """Active accounts by role, and how many are locked after failed sign-ins (two queries)."""
    rows = await db.execute(select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role))
    locked = await db.scalar(select(func.count()).select_from(User).where(User.locked_until > utcnow()))
    return {"users_by_role": {role: count for role, count in rows.all()}, "locked_users": locked}


async def audit_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """The eight latest changes (two queries)."""
    return {"recent_audit": (await audit.list_entries(db, per_page=8)).items}


async def own_organisation_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """A tenant's own organisation, as the hub holds it (one query; none if not linked)."""
    if identity.organisation_id is None:
        return {"organisation": None}
    org = await db.get(Organisation, identity.organisation_id)
    return {"organisation": organisation_out(org) if org else None}
