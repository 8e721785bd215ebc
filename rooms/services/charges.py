"""What bookings cost, told to the hub's money path: a confirmed booking owes its hire, a
cancelled one owes only its cancellation fee. The hub turns that into charges (re-posting or
adjusting as a booking changes), which invoices then gather."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing import Posting, post_for_source
from hub.config import Settings
from rooms.models import Booking, BookingStatus


def postings(bookings: list[Booking], settings: Settings) -> list[Posting]:
    zone = settings.zone
    result: list[Posting] = []
    for booking in bookings:
        start = booking.start_at.astimezone(zone)
        end = booking.end_at.astimezone(zone)
        when = f"{start:%a %d %b %Y} {start:%H:%M}-{end:%H:%M}"
        confirmed = booking.status == BookingStatus.CONFIRMED.value
        cancelled = booking.status == BookingStatus.CANCELLED.value
        common = {
            "source_type": "booking",
            "source_id": str(booking.id),
            "organisation_id": booking.organisation_id,
            "supply_date": start.date(),
            "vat_rate_bp": booking.vat_rate_bp,
            "stream": "room_hire",
        }
        result.append(
            Posting(
                source_key=f"booking:{booking.id}:hire",
                description=f"{booking.title}: {booking.price_description}, {when}",
                net_pence=booking.price_net_pence if confirmed else 0,
                **common,  # type: ignore[arg-type]
            )
        )
        result.append(
            Posting(
                source_key=f"booking:{booking.id}:cancellation_fee",
                description=f"Late cancellation fee: {booking.title}, {when}",
                net_pence=booking.cancellation_fee_pence if cancelled else 0,
                **common,  # type: ignore[arg-type]
            )
        )
    return result


async def post_booking_charges(
    db: AsyncSession, settings: Settings, actor: Identity, bookings: list[Booking], reason: str
) -> None:
    """In the booking change's own transaction, so a booking and its charge never disagree."""
    await post_for_source(db, actor, postings(bookings, settings), reason)
