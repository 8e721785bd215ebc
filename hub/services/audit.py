"""The audit log: every change says who, when, what and why, in the change's own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.models import AuditEntry
from hub.queries import page_of
from hub.schemas import AuditEntryOut, AuditPage
from hub.text import search_term


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Fields whose value changed, as ``{field: [old, new]}``."""
    changed: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changed[key] = [old, new]
    return changed


def record(
    db: AsyncSession,
    actor: Identity,
    action: str,
    object_type: str,
    object_id: int | str,
    *,
    summary: str = "",
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Add an entry to the current transaction; it commits (or rolls back) with the change."""
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        changes=_plain(dict(changes or {})),
        reason=reason,
    )
    db.add(entry)
    return entry


def to_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        summary=entry.summary,
        changes=entry.changes,
        reason=entry.reason,
    )


async def list_entries(
    db: AsyncSession,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Newest first, filtered. Bounded: two queries whatever the page size."""
    conditions = []
    action, object_type, object_id = search_term(action), search_term(object_type), search_term(object_id)
    if actor_id is not None:
        conditions.append(AuditEntry.actor_id == actor_id)
    if action:
        # "user" matches user.created, user.locked, ...
        conditions.append(AuditEntry.action.startswith(action, autoescape=True))
    if object_type:
        conditions.append(AuditEntry.object_type == object_type)
    if object_id:
        conditions.append(AuditEntry.object_id == object_id)
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    query = select(AuditEntry).where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    found = await page_of(db, query, page=page, per_page=per_page)
    return AuditPage(items=[to_out(e) for e in found.rows], total=found.total, page=page, per_page=per_page)


async def object_types(db: AsyncSession) -> list[str]:
    rows = await db.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type))
    return list(rows)
