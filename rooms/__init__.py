"""Rooms: spaces, rates, opening hours, bookings and series, availability and feeds.

Public API for other modules is re-exported here as it is built.

What rooms asks of others (``hub.modules.Module.provides``): :data:`HIRE_ALLOWANCE`. A module
that gives organisations included meeting-room hours (tenants) provides a :class:`HireAllowance`
under that name; rooms asks it when pricing a booking of a room marked ``tenant_bookable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

HIRE_ALLOWANCE = "rooms.hire_allowance"


@dataclass(frozen=True)
class AllowanceAnswer:
    """The booking is hired under an allowance: its own hire charge is zero, and ``note`` says why
    in words for the booker (hours left this month, or that hours beyond the allowance are billed
    with the monthly billing run at the tenant rate)."""

    note: str


class HireAllowance(Protocol):
    async def __call__(
        self,
        db: AsyncSession,
        organisation_id: int,
        room_id: int,
        start: datetime,
        end: datetime,
        exclude_booking_id: int | None,
    ) -> AllowanceAnswer | None:
        """None: the organisation has no allowance that covers this booking (price it as usual)."""
        ...


__all__ = ["HIRE_ALLOWANCE", "AllowanceAnswer", "HireAllowance"]
