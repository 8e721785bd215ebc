"""Trustee reports: income by stream, aged debtors, room utilisation, community impact, occupancy
and café trading — read by trustees and admins, changing nothing.

The core owns the money figures (the income ledger, aged debt). Everything else is asked of the
modules by name (``hub.modules.Module.provides``), so no module is imported and no module's table
is read here (DESIGN §1). The reports own these names and their signatures; a module provides a
function under a name, and when nobody does the report says so in words:

- :data:`UTILISATION` (rooms): booked hours ÷ open hours per room and month, by part of day and
  weekday, no-shows and late cancellations — :class:`UtilisationProvider`.
- :data:`IMPACT` (rooms): hours by category, organisations by kind, sessions, attendances, hours by
  rate band and the discount given — :class:`ImpactProvider`.
- :data:`OCCUPANCY` (tenants): share of lettable space let, month by month — :class:`OccupancyProvider`.
- :data:`CAFE_TRADING` (café): takings, transactions, basket, products, VAT, pay-it-forward, till
  variances — :class:`CafeTradingProvider`.

Dates handed to providers are building-local days, ``first`` and ``last`` inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.config import Settings

UTILISATION = "reports.utilisation"
IMPACT = "reports.impact"
OCCUPANCY = "reports.occupancy"
CAFE_TRADING = "reports.cafe_trading"

PARTS_OF_DAY = ("morning", "afternoon", "evening")
PART_LABELS = {
    "morning": "Morning (before 12:00)",
    "afternoon": "Afternoon (12:00–17:00)",
    "evening": "Evening (from 17:00)",
}


@dataclass
class RoomMonth:
    """One indivisible room in one month: seconds booked and open (real elapsed time)."""

    room_id: int
    room: str
    month: date
    booked_seconds: int
    open_seconds: int


@dataclass
class WeekdayPart:
    """Booked and open seconds, all rooms, on one weekday (0 = Monday) in one part of the day."""

    weekday: int
    part: str
    booked_seconds: int
    open_seconds: int


@dataclass
class Utilisation:
    rooms: list[RoomMonth]
    by_weekday_part: list[WeekdayPart]
    no_shows: int
    no_show_seconds: int
    late_cancellations: int
    late_cancellation_seconds: int
    late_cancellation_hours: int


@dataclass
class CategoryHours:
    category: str
    label: str
    sessions: int
    seconds: int
    attendance: int


@dataclass
class KindCount:
    kind: str
    organisations: int


@dataclass
class BandHours:
    band: str  # a rate band's code, or "free" (no charge, whatever the band)
    seconds: int
    net_pence: int


@dataclass
class Impact:
    categories: list[CategoryHours]
    organisations: list[KindCount]
    sessions_held: int
    hours_seconds: int
    attendances: int
    checked_in_sessions: int
    bands: list[BandHours]
    commercial_value_pence: int  # the discounted hours at the commercial hourly rate
    charged_pence: int  # what those hours were charged (net)
    discount_pence: int = field(default=0)


class UtilisationProvider(Protocol):
    async def __call__(
        self, db: AsyncSession, settings: Settings, first: date, last: date
    ) -> Utilisation: ...


class ImpactProvider(Protocol):
    async def __call__(self, db: AsyncSession, settings: Settings, first: date, last: date) -> Impact: ...


class OccupancyMonth(Protocol):
    month: date
    lettable_area_m2: Decimal
    let_area_m2: Decimal
    share_bp: int
    rent_roll_pence: int


class OccupancyProvider(Protocol):
    async def __call__(
        self, db: AsyncSession, settings: Settings, first: date, last: date
    ) -> list[OccupancyMonth]: ...


class CafeTrading(Protocol):
    takings_gross_pence: int
    takings_net_pence: int
    takings_vat_pence: int
    transactions: int
    average_basket_pence: int
    vat_by_rate: list[tuple[int, int, int]]
    top_products: list[tuple[str, int, int]]
    pif_given_units: int
    pif_given_pence: int
    pif_redeemed_units: int
    pif_redeemed_pence: int
    variances: list[tuple[Any, str, date, int, str]]
    by_month: list[tuple[date, int, int]]


class CafeTradingProvider(Protocol):
    async def __call__(
        self, db: AsyncSession, settings: Settings, first: date, last: date
    ) -> CafeTrading: ...


__all__ = [
    "CAFE_TRADING",
    "IMPACT",
    "OCCUPANCY",
    "PARTS_OF_DAY",
    "UTILISATION",
    "BandHours",
    "CafeTrading",
    "CafeTradingProvider",
    "CategoryHours",
    "Impact",
    "ImpactProvider",
    "KindCount",
    "OccupancyMonth",
    "OccupancyProvider",
    "RoomMonth",
    "Utilisation",
    "UtilisationProvider",
    "WeekdayPart",
]
