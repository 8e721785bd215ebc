"""Find a room: which rooms are free for a time, on one date or the same weekday for some weeks,
with room for the head-count and every feature asked for, and what each costs the organisation.

Reuses :func:`rooms.services.availability.free_rooms` for each date and
:func:`rooms.services.quotes.quote` for the rate; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import InvalidInput
from rooms.models import FEATURES, Room
from rooms.schemas import Quote, QuoteRequest
from rooms.services.availability import free_rooms
from rooms.services.calendar import BuildingCalendar
from rooms.services.localtime import combine_local
from rooms.services.quotes import quote
from rooms.services.rooms import RoomMap

MAX_WEEKS = 52

# A picture beside each feature's words (never instead of them).
FEATURE_ICONS = {
    "step_free": "\u267f",  # ♿ (symbols every browser's fonts have: no colour emoji needed)
    "hearing_loop": "\u27bf",  # ➿
    "sink": "\u224b",  # ≋
    "clinical_couch": "\u2695",  # ⚕
    "kitchen": "\u2615",  # ☕
    "projector": "\u25b6",  # ▶
    "computers": "\u2328",  # ⌨
    "sprung_floor": "\u266b",  # ♫
    "private": "\u2298",  # ⊘
}


def feature_words(slugs: list[str]) -> list[tuple[str, str]]:
    """A room's features as (icon, words), in the fixed list's order; unknown ones by their name."""
    known = [(FEATURE_ICONS.get(s, ""), FEATURES[s]) for s in FEATURES if s in slugs]
    others = [("", s.replace("_", " ").capitalize()) for s in slugs if s not in FEATURES]
    return known + others


@dataclass
class Clash:
    """A date a room is not free for the span, and why when the building itself is shut."""

    day: date
    reason: str = ""


@dataclass
class FoundRoom:
    room: Room
    dates: list[date]  # the dates searched on which it is free
    clashes: list[Clash] = field(default_factory=list)
    rate: Quote | None = None

    @property
    def free_every_time(self) -> bool:
        return not self.clashes


def search_dates(first: date, weeks: int, weekday: int | None = None) -> list[date]:
    """The dates to search: ``first`` (or the first ``weekday`` on or after it), then weekly."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"enter a number of weeks from 1 to {MAX_WEEKS}", field="weeks")
    if weekday is not None:
        if not 0 <= weekday <= 6:
            raise InvalidInput("choose a day of the week", field="weekday")
        first += timedelta(days=(weekday - first.weekday()) % 7)
    return [first + timedelta(weeks=i) for i in range(weeks)]


async def find_rooms(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    *,
    dates: list[date],
    start_time: time,
    end_time: time,
    capacity: int = 0,
    features: list[str] | None = None,
    organisation_id: int | None = None,
) -> list[FoundRoom]:
    """Rooms big enough with every feature, free on at least one of ``dates`` from ``start_time``
    to ``end_time`` (local). Rooms free on every date come first (smallest that fits first), then
    rooms free on some, fewest clashes first, each with the dates that clash. With an organisation,
    each room's price for the first free date, at that organisation's rate."""
    if not dates:
        raise InvalidInput("enter the date", field="date")
    if capacity < 0:
        raise InvalidInput("enter how many people, 0 or more", field="capacity")
    free_on: dict[int, set[date]] = {}
    for day in dates:
        for free in await free_rooms(
            db,
            settings,
            day=day,
            start_time=start_time,
            end_time=end_time,
            capacity=capacity,
            features=features,
        ):
            free_on.setdefault(free.id, set()).add(day)
    if not free_on:
        return []
    zone = settings.zone
    calendar = await BuildingCalendar.load(db, settings, min(dates), max(dates))
    shut = {
        day: calendar.problem(
            combine_local(day, start_time, zone).astimezone(zone),
            combine_local(day, end_time, zone).astimezone(zone),
        )
        or ""
        for day in dates
    }
    room_map = await RoomMap.load(db)
    found = []
    for room_id, free_dates in free_on.items():
        room = room_map.rooms[room_id]
        clashes = [Clash(day, shut[day]) for day in dates if day not in free_dates]
        free_sorted = sorted(free_dates)
        rate = None
        if organisation_id is not None:
            first = free_sorted[0]
            rate = await quote(
                db,
                settings,
                actor,
                QuoteRequest(
                    room_id=room.id,
                    start=datetime.combine(first, start_time),
                    end=datetime.combine(first, end_time),
                    organisation_id=organisation_id,
                ),
            )
        found.append(FoundRoom(room=room, dates=free_sorted, clashes=clashes, rate=rate))
    return sorted(found, key=lambda f: (len(f.clashes), f.room.capacity, f.room.name))
