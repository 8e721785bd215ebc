"""Rates and quotes: what a booking costs, worked out the same way for the form and the booking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import RuleViolation
from hub.models import RateBand
from hub.modules import Registry
from hub.money import format_pence, proportion_pence, vat_pence
from hub.services import audit
from rooms import HIRE_ALLOWANCE, AllowanceAnswer, HireAllowance
from rooms.models import Room, RoomRate, VatTreatment
from rooms.schemas import RateIn, RateOut
from rooms.services.rooms import get_room

HALF_DAY_MINUTES = 4 * 60
DAY_MINUTES = 8 * 60


def rate_out(rate: RoomRate) -> RateOut:
    return RateOut(
        id=rate.id,
        room_id=rate.room_id,
        band=RateBand(rate.band),
        hourly_pence=rate.hourly_pence,
        half_day_pence=rate.half_day_pence,
        day_pence=rate.day_pence,
        minimum_pence=rate.minimum_pence,
        vat_treatment=VatTreatment(rate.vat_treatment),
        vat_rate_bp=rate.vat_rate_bp,
    )


async def list_rates(db: AsyncSession, room_id: int | None = None) -> list[RoomRate]:
    query = select(RoomRate).order_by(RoomRate.room_id, RoomRate.band)
    if room_id is not None:
        query = query.where(RoomRate.room_id == room_id)
    return list(await db.scalars(query))


async def set_rate(db: AsyncSession, actor: Identity, data: RateIn) -> RoomRate:
    """One rate per room and band; setting it again replaces it (booked prices are snapshots)."""
    await get_room(db, data.room_id, field="room_id")
    if data.vat_treatment == VatTreatment.EXEMPT and data.vat_rate_bp != 0:
        raise RuleViolation("must be 0 when the rate is VAT-exempt", field="vat_rate_bp")
    if data.vat_treatment == VatTreatment.STANDARD and data.vat_rate_bp == 0:
        raise RuleViolation("give the standard rate in basis points, e.g. 2000 for 20%", field="vat_rate_bp")
    rate = await db.scalar(
        select(RoomRate).where(RoomRate.room_id == data.room_id, RoomRate.band == data.band.value)
    )
    before = rate_out(rate) if rate else None
    if rate is None:
        rate = RoomRate(room_id=data.room_id, band=data.band.value)
        db.add(rate)
    rate.hourly_pence = data.hourly_pence
    rate.half_day_pence = data.half_day_pence
    rate.day_pence = data.day_pence
    rate.minimum_pence = data.minimum_pence
    rate.vat_treatment = data.vat_treatment.value
    rate.vat_rate_bp = 0 if data.vat_treatment != VatTreatment.STANDARD else data.vat_rate_bp
    rate.updated_at = utcnow()
    await db.flush()
    after = rate_out(rate)
    fields = ("hourly_pence", "half_day_pence", "day_pence", "minimum_pence", "vat_treatment", "vat_rate_bp")
    audit.record(
        db,
        actor,
        "rate.set",
        "room_rate",
        rate.id,
        summary=f"Rate for room {data.room_id}, {data.band.value} band",
        changes={f: [getattr(before, f) if before else None, getattr(after, f)] for f in fields},
    )
    await db.commit()
    return rate


class Price:
    def __init__(
        self,
        band: RateBand,
        description: str,
        net_pence: int,
        vat_rate_bp: int,
        allowance_note: str | None = None,
    ) -> None:
        self.band = band
        self.description = description
        self.net_pence = net_pence
        self.vat_rate_bp = vat_rate_bp
        self.vat_pence = vat_pence(net_pence, vat_rate_bp)
        # Set when an allowance covers the hire (its net is then zero): why, for the booker.
        self.allowance_note = allowance_note

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}m" if rest else f"{hours}h"


async def price_for(db: AsyncSession, room: Room, band: RateBand, start: datetime, end: datetime) -> Price:
    """Hourly pro rata, or the half-day or day rate where cheaper; never below the minimum."""
    rate = await db.scalar(select(RoomRate).where(RoomRate.room_id == room.id, RoomRate.band == band.value))
    if rate is None:
        raise RuleViolation(f"{room.name} has no {band.value} rate set; an admin can add one", field="band")
    minutes = int((end - start).total_seconds() // 60)
    options = [
        (
            proportion_pence(rate.hourly_pence, minutes, 60),
            f"{_duration(minutes)} at {format_pence(rate.hourly_pence)}/hour",
        )
    ]
    if rate.half_day_pence is not None and minutes <= HALF_DAY_MINUTES:
        options.append((rate.half_day_pence, "half-day rate"))
    if rate.day_pence is not None and minutes <= DAY_MINUTES:
        options.append((rate.day_pence, "day rate"))
    net, how = min(options, key=lambda option: option[0])
    if net < rate.minimum_pence:
        net, how = rate.minimum_pence, f"minimum charge ({_duration(minutes)} booked)"
    return Price(band, f"{room.name}, {how}, {band.value} rate", net, rate.vat_rate_bp)


# The price description is stored on the booking (200 characters at most).
DESCRIPTION_LIMIT = 200


async def hire_price(
    db: AsyncSession,
    registry: Registry | None,
    room: Room,
    band: RateBand,
    organisation_id: int,
    start: datetime,
    end: datetime,
    *,
    exclude_booking_id: int | None = None,
) -> Price:
    """What an organisation's booking of this room costs: every path that prices a booking (the
    quote, booking, re-pricing a change, a series' occurrences) comes here.

    For a room marked ``tenant_bookable``, the modules providing :data:`rooms.HIRE_ALLOWANCE`
    (tenants' included meeting-room hours) are asked first, in module order: the first
    :class:`rooms.AllowanceAnswer` makes the hire zero, its note saying why. Otherwise (no
    allowance, another room, or no ``registry``: a caller outside the app, such as the demo) the
    room's rate for the band prices it."""
    if room.tenant_bookable and registry is not None:
        for provider in registry.provided(HIRE_ALLOWANCE):
            allowance: HireAllowance = provider
            answer = await allowance(db, organisation_id, room.id, start, end, exclude_booking_id)
            if isinstance(answer, AllowanceAnswer):
                # As the rates read ("Meeting Room 1, 2h at £12.00/hour, ..."): the room, then why.
                note = answer.note.strip()
                description = f"{room.name}, {note[:1].lower()}{note[1:]}" if note else room.name
                if len(description) > DESCRIPTION_LIMIT:
                    description = description[: DESCRIPTION_LIMIT - 1] + "…"
                return Price(band, description, 0, 0, allowance_note=answer.note)
    return await price_for(db, room, band, start, end)
