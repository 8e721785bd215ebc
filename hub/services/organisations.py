"""Organisations: everyone the hub books for, lets to or bills. Archived, never deleted."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.models import Contact, Organisation, OrganisationKind, RateBand, Role, default_rate_band
from hub.queries import get_or_404, page_of
from hub.schemas import (
    ContactIn,
    ContactOut,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationUpdate,
)
from hub.services import audit
from hub.text import name_key, search_term


def normalise_postcode(postcode: str) -> str:
    """``ab12cd`` → ``AB1 2CD``: the inward code is always the last three characters."""
    compact = "".join(postcode.split()).upper()
    if not compact:
        return ""
    return f"{compact[:-3]} {compact[-3:]}"


def organisation_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=org.id,
        name=org.name,
        kind=OrganisationKind(org.kind),
        charity_number=org.charity_number,
        company_number=org.company_number,
        address_line1=org.address_line1,
        address_line2=org.address_line2,
        town=org.town,
        postcode=org.postcode,
        billing_email=org.billing_email,
        contacts=[
            ContactOut(id=c.id, name=c.name, email=c.email, phone=c.phone, role=c.role) for c in org.contacts
        ],
        default_rate_band=RateBand(org.default_rate_band),
        notes=org.notes,
        active=org.active,
        created_at=org.created_at,
        updated_at=org.updated_at,
        archived_at=org.archived_at,
    )


def _snapshot(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "kind": org.kind,
        "charity_number": org.charity_number,
        "company_number": org.company_number,
        "address_line1": org.address_line1,
        "address_line2": org.address_line2,
        "town": org.town,
        "postcode": org.postcode,
        "billing_email": org.billing_email,
        "default_rate_band": org.default_rate_band,
        "notes": org.notes,
        "contacts": [[c.name, c.email, c.phone, c.role] for c in org.contacts],
    }


def _contacts(items: list[ContactIn]) -> list[Contact]:
    return [
        Contact(
            position=index,
            name=item.name.strip(),
            email=item.email.strip().lower() if item.email else None,
            phone=item.phone.strip() if item.phone else None,
            role=item.role.strip(),
        )
        for index, item in enumerate(items)
    ]


async def _check_name_free(db: AsyncSession, name: str, *, except_id: int | None = None) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("must not be blank", field="name")
    query = select(Organisation.id).where(Organisation.name_key == name_key(cleaned))
    if except_id is not None:
        query = query.where(Organisation.id != except_id)
    if await db.scalar(query) is not None:
        raise Conflict("an organisation with this name already exists", field="name")
    return cleaned


async def get(db: AsyncSession, viewer: Identity, organisation_id: int) -> Organisation:
    """Tenants may see only their own organisation; any other id answers 404."""
    viewer.require_organisation(organisation_id, "That organisation")
    return await get_or_404(db, Organisation, organisation_id, "That organisation")


async def search(
    db: AsyncSession,
    viewer: Identity,
    *,
    q: str | None = None,
    kind: OrganisationKind | None = None,
    active: bool | None = True,
    page: int = 1,
    per_page: int = 25,
) -> OrganisationPage:
    """Search by name, charity or company number, town, postcode or contact; newest names sorted A–Z."""
    conditions: list[Any] = []
    if viewer.role == Role.TENANT:
        conditions.append(Organisation.id == viewer.organisation_id)
    term = search_term(q)
    if term:
        like = f"%{name_key(term)}%"
        conditions.append(
            or_(
                Organisation.name_key.like(like),
                Organisation.charity_number == term.upper(),
                Organisation.company_number == term.upper(),
                func.lower(Organisation.town).like(like),
                func.replace(Organisation.postcode, " ", "").like(f"%{''.join(term.split()).upper()}%"),
                Organisation.id.in_(
                    select(Contact.organisation_id).where(
                        or_(func.lower(Contact.name).like(like), func.lower(Contact.email).like(like))
                    )
                ),
            )
        )
    if kind is not None:
        conditions.append(Organisation.kind == kind.value)
    if active is not None:
        conditions.append(Organisation.active.is_(active))
    query = select(Organisation).where(*conditions).order_by(Organisation.name_key, Organisation.id)
    found = await page_of(db, query, page=page, per_page=per_page)
    return OrganisationPage(
        items=[organisation_out(o) for o in found.rows], total=found.total, page=page, per_page=per_page
    )


async def create(db: AsyncSession, actor: Identity, data: OrganisationCreate) -> Organisation:
    """Names are unique ignoring case and spacing; the rate band defaults from the kind."""
    name = await _check_name_free(db, data.name)
    org = Organisation(
        name=name,
        name_key=name_key(name),
        kind=data.kind.value,
        charity_number=data.charity_number,
        company_number=data.company_number.upper() if data.company_number else None,
        address_line1=data.address_line1.strip(),
        address_line2=data.address_line2.strip(),
        town=data.town.strip(),
        postcode=normalise_postcode(data.postcode),
        billing_email=data.billing_email.strip().lower() if data.billing_email else None,
        default_rate_band=(data.default_rate_band or default_rate_band(data.kind)).value,
        notes=data.notes,
        active=True,
        contacts=_contacts(data.contacts),
    )
    now = utcnow()
    org.created_at = org.updated_at = now
    db.add(org)
    await db.flush()
    audit.record(
        db,
        actor,
        "organisation.created",
        "organisation",
        org.id,
        summary=f"Created {org.name} ({org.kind})",
        changes={k: [None, v] for k, v in _snapshot(org).items() if v not in (None, "", [])},
    )
    await db.commit()
    return org


async def update(
    db: AsyncSession, actor: Identity, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    org = await get(db, actor, organisation_id)
    if not org.active:
        raise RuleViolation("an archived organisation cannot be edited; restore it first", field="active")
    before = _snapshot(org)
    fields = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
    if "name" in fields:
        org.name = await _check_name_free(db, fields.pop("name"), except_id=org.id)
        org.name_key = name_key(org.name)
    if "contacts" in fields:
        org.contacts = _contacts(fields.pop("contacts"))
    for key, value in fields.items():
        if key == "kind" or key == "default_rate_band":
            value = value.value
        elif key == "postcode":
            value = normalise_postcode(value)
        elif key == "company_number" and value:
            value = value.upper()
        elif key == "billing_email" and value:
            value = value.strip().lower()
        elif isinstance(value, str) and key != "notes":
            value = value.strip()
        setattr(org, key, value)
    changes = audit.diff(before, _snapshot(org))
    if changes:
        org.updated_at = utcnow()
        audit.record(
            db,
            actor,
            "organisation.updated",
            "organisation",
            org.id,
            summary=f"Updated {org.name}",
            changes=changes,
        )
    await db.commit()
    await db.refresh(org)
    return org


async def set_active(
    db: AsyncSession, actor: Identity, organisation_id: int, *, active: bool, reason: str
) -> Organisation:
    """Archive (or restore) instead of delete: history that refers to the organisation stays whole."""
    org = await get(db, actor, organisation_id)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("must not be blank", field="reason")
    if org.active == active:
        state = "active" if active else "archived"
        raise Conflict(f"{org.name} is already {state}", field="active")
    org.active = active
    org.archived_at = None if active else utcnow()
    org.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "organisation.restored" if active else "organisation.archived",
        "organisation",
        org.id,
        summary=f"{'Restored' if active else 'Archived'} {org.name}",
        changes={"active": [not active, active]},
        reason=reason,
    )
    await db.commit()
    return org
