"""Demo data for the rooms module (filled in by the rooms demo work)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings


async def seed(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """Add the hub's rooms, rates and a term of bookings to a freshly seeded core demo."""
