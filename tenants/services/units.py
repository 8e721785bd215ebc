"""Lettable units: offices, desks and storage. A unit's status is derived, never stored: out of use
by hand → unavailable; held by a live agreement on the day → let; otherwise available."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from msgspec import UNSET
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput
from hub.models import Organisation
from hub.queries import get_or_404
from hub.services import audit
from tenants.models import (
    LIVE_AGREEMENT_STATUSES,
    Agreement,
    AgreementStatus,
    Unit,
    UnitStatus,
    agreement_units,
)
from tenants.schemas import UnitCreate, UnitOut, UnitUpdate

MAX_AREA = Decimal("9999999.99")


@dataclass(frozen=True)
class Holder:
    """The live agreement holding a unit on a day, and its tenant."""

    agreement_id: int
    organisation_id: int
    organisation_name: str


def live_on(day: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: an agreement that holds its units on ``day``: one that came into force (active, under
    notice, or since ended) and whose dates cover the day. Ending sets the end date to the day it
    ended, so an ended agreement holds its units for the past it covered, and no longer."""
    return and_(
        Agreement.status.in_((*LIVE_AGREEMENT_STATUSES, AgreementStatus.ENDED.value)),
        Agreement.activated_on.is_not(None),
        Agreement.start_date <= day,
        or_(Agreement.end_date.is_(None), Agreement.end_date >= day),
    )


def status_of(unit: Unit, holder: Holder | None) -> UnitStatus:
    if unit.out_of_use:
        return UnitStatus.UNAVAILABLE
    return UnitStatus.LET if holder is not None else UnitStatus.AVAILABLE


async def holders(db: AsyncSession, day: date, unit_ids: list[int] | None = None) -> dict[int, Holder]:
    """Which live agreement holds each unit on ``day``: one query for any number of units."""
    query = (
        select(agreement_units.c.unit_id, Agreement.id, Organisation.id, Organisation.name)
        .join(Agreement, Agreement.id == agreement_units.c.agreement_id)
        .join(Organisation, Organisation.id == Agreement.organisation_id)
        .where(live_on(day))
        .order_by(Agreement.start_date)
    )
    if unit_ids is not None:
        query = query.where(agreement_units.c.unit_id.in_(unit_ids))
    return {
        int(unit_id): Holder(int(agreement_id), int(org_id), str(name))
        for unit_id, agreement_id, org_id, name in (await db.execute(query)).all()
    }


def unit_out(unit: Unit, holder: Holder | None) -> UnitOut:
    return UnitOut(
        id=unit.id,
        name=unit.name,
        kind=unit.kind,  # type: ignore[arg-type]
        floor=unit.floor,
        area_m2=unit.area_m2,
        features=list(unit.features),
        out_of_use=unit.out_of_use,
        status=status_of(unit, holder),
        agreement_id=holder.agreement_id if holder else None,
        organisation_id=holder.organisation_id if holder else None,
        organisation_name=holder.organisation_name if holder else None,
        notes=unit.notes,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


def _area(value: Decimal) -> Decimal:
    try:
        area = Decimal(value)
        if not area.is_finite():
            raise InvalidOperation
        rounded = area.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput("must be a number of square metres, e.g. 12.5", field="area_m2") from None
    if rounded != area:
        raise InvalidInput("must have at most two decimal places", field="area_m2")
    if not Decimal(0) < rounded <= MAX_AREA:
        raise InvalidInput(f"must be more than 0 and at most {MAX_AREA}", field="area_m2")
    return rounded


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("must not be blank", field="name")
    return cleaned


async def _check_name_free(db: AsyncSession, name: str, except_id: int | None = None) -> None:
    query = select(Unit.id).where(Unit.name == name)
    if except_id is not None:
        query = query.where(Unit.id != except_id)
    if await db.scalar(query) is not None:
        raise Conflict("a unit with this name already exists", field="name")


def _features(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        cleaned = " ".join(item.split())
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    return seen


def _snapshot(unit: Unit) -> dict[str, Any]:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "floor": unit.floor,
        "area_m2": str(unit.area_m2),
        "features": list(unit.features),
        "out_of_use": unit.out_of_use,
        "notes": unit.notes,
    }


async def get_unit(db: AsyncSession, unit_id: int) -> Unit:
    return await get_or_404(db, Unit, unit_id, "That unit")


async def get_unit_out(db: AsyncSession, unit_id: int, day: date) -> UnitOut:
    unit = await get_unit(db, unit_id)
    return unit_out(unit, (await holders(db, day, [unit.id])).get(unit.id))


async def list_units(db: AsyncSession, today: date) -> list[UnitOut]:
    """Every unit by floor and name, with its status on ``today`` (two queries in all)."""
    units = list(await db.scalars(select(Unit).order_by(Unit.floor, Unit.name)))
    held = await holders(db, today)
    return [unit_out(unit, held.get(unit.id)) for unit in units]


async def create_unit(db: AsyncSession, actor: Identity, data: UnitCreate) -> Unit:
    """Names are unique; the floor area is positive, to two decimal places."""
    name = _clean_name(data.name)
    area = _area(data.area_m2)
    await _check_name_free(db, name)
    now = utcnow()
    unit = Unit(
        name=name,
        kind=data.kind.value,
        floor=data.floor.strip(),
        area_m2=area,
        features=_features(data.features),
        out_of_use=data.out_of_use,
        notes=data.notes,
        created_at=now,
        updated_at=now,
    )
    db.add(unit)
    await db.flush()
    audit.record(
        db,
        actor,
        "unit.created",
        "tenant_unit",
        unit.id,
        summary=f"Added unit {unit.name} ({unit.kind}, {area} m²)",
        changes={k: [None, v] for k, v in _snapshot(unit).items() if v not in (None, "", [])},
    )
    await db.commit()
    return unit


async def update_unit(db: AsyncSession, actor: Identity, unit_id: int, data: UnitUpdate) -> Unit:
    unit = await get_unit(db, unit_id)
    before = _snapshot(unit)
    fields = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
    if "name" in fields:
        name = _clean_name(fields.pop("name"))
        await _check_name_free(db, name, except_id=unit.id)
        unit.name = name
    if "area_m2" in fields:
        unit.area_m2 = _area(fields.pop("area_m2"))
    if "kind" in fields:
        unit.kind = fields.pop("kind").value
    if "features" in fields:
        unit.features = _features(fields.pop("features"))
    if "floor" in fields:
        unit.floor = fields.pop("floor").strip()
    for key, value in fields.items():
        setattr(unit, key, value)
    changes = audit.diff(before, _snapshot(unit))
    if changes:
        unit.updated_at = utcnow()
        audit.record(
            db,
            actor,
            "unit.updated",
            "tenant_unit",
            unit.id,
            summary=f"Changed unit {unit.name}",
            changes=changes,
        )
    await db.commit()
    await db.refresh(unit)
    return unit
