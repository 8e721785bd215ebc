"""Helpers the desk pages share: reading local dates and times from forms, the choices in the
selects, and the price/clash check shown beside the booking form (the grid is in
:mod:`rooms.views.grid`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import DomainError, FieldError, InvalidInput
from hub.money import format_pence
from hub.schemas import convert_input
from hub.services import organisations
from rooms.models import BookingCategory, Room
from rooms.schemas import Clash, QuoteRequest
from rooms.services import quotes
from rooms.services import settings as building_settings
from rooms.services.rooms import RoomMap

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def parse_clock(value: str | None) -> time | None:
    """A local time of day: 14:30, 9:30, 14.30 or 1430 (quick to type), or HH:MM:00."""
    text = (value or "").strip().replace(".", ":")
    if text.isdigit() and len(text) in (3, 4):
        text = f"{text[:-2]}:{text[-2:]}"
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    if len(parts) == 3 and parts[2] != "00":
        return None
    if len(parts[0]) > 2 or len(parts[1]) != 2:
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        return None
    return time(hours, minutes)


def hhmm(value: datetime | time, settings: Settings | None = None) -> str:
    if isinstance(value, datetime) and settings is not None:
        value = value.astimezone(settings.zone)
    return f"{value:%H:%M}"


def money(pence: int | None) -> str:
    return format_pence(pence or 0)


T = TypeVar("T")


def convert_form(data: dict[str, Any], type_: type[T], errors: list[FieldError]) -> T:
    """Validate a form's data; every problem found so far and by the schema is reported at once."""
    try:
        result = convert_input(data, type_)
    except DomainError as exc:
        errors.extend(exc.errors)
        raise InvalidInput("Please correct the form.", errors=errors) from exc
    if errors:
        raise InvalidInput("Please correct the form.", errors=errors)
    return result


def collect_errors(errors: list[FieldError], exc: DomainError) -> None:
    errors.extend(exc.errors or [FieldError(field="", reason=exc.detail)])


# --- choices for the selects --------------------------------------------------------------------


@dataclass
class Choices:
    rooms: list[Room]
    organisations: list[tuple[int, str]]
    categories: list[BookingCategory]

    @property
    def room_options(self) -> list[tuple[int, str]]:
        return [(r.id, f"{r.name} (up to {r.capacity})") for r in self.rooms]

    @property
    def category_options(self) -> list[tuple[str, str]]:
        return [(c.slug, c.label) for c in self.categories]

    def category_label(self, slug: str) -> str:
        return next((c.label for c in self.categories if c.slug == slug), slug.replace("_", " ").capitalize())


async def load_choices(db: AsyncSession, identity: Identity, room_map: RoomMap | None = None) -> Choices:
    room_map = room_map or await RoomMap.load(db)
    orgs = await organisations.search(db, identity, active=True, per_page=200)
    categories = [c for c in await building_settings.categories(db) if c.active]
    return Choices(
        rooms=bookable_rooms(room_map),
        organisations=[(o.id, o.name) for o in orgs.items],
        categories=categories,
    )


def bookable_rooms(room_map: RoomMap) -> list[Room]:
    return [r for r in room_map.rooms.values() if r.active and r.bookable]


# --- the price and clash check ------------------------------------------------------------------


@dataclass
class QuoteView:
    """A quote (rooms.services.quotes) as the booking form shows it."""

    description: str = ""
    net: str = ""
    vat: str = ""
    gross: str = ""
    vat_rate: str = ""
    clashes: list[str] = field(default_factory=list)
    hours_problem: str | None = None
    problem: str | None = None


def clash_text(room: str, busy_start: datetime, busy_end: datetime, settings: Settings) -> str:
    zone = settings.zone
    start, end = busy_start.astimezone(zone), busy_end.astimezone(zone)
    return f"{room} is busy {start:%a %d %b} {start:%H:%M}–{end:%H:%M}"


def clash_texts_from_extra(extra: dict[str, Any], settings: Settings) -> list[str]:
    texts = []
    for item in extra.get("clashes", []):
        try:
            start = datetime.fromisoformat(item["busy_start"])
            end = datetime.fromisoformat(item["busy_end"])
        except (KeyError, TypeError, ValueError):
            continue
        texts.append(clash_text(str(item.get("room", "")), start, end, settings))
    return texts


def clash_texts(clashes: list[Clash], settings: Settings) -> list[str]:
    return [clash_text(c.room, c.busy_start, c.busy_end, settings) for c in clashes]


async def quote_for(
    db: AsyncSession, settings: Settings, identity: Identity, request: QuoteRequest
) -> QuoteView:
    """POST /api/v1/quotes' answer, for the form without JavaScript; a problem is shown, not raised."""
    try:
        found = await quotes.quote(db, settings, identity, request)
    except DomainError as exc:
        return QuoteView(problem=exc.detail)
    return QuoteView(
        description=found.description,
        net=money(found.net_pence),
        vat=money(found.vat_pence),
        gross=money(found.gross_pence),
        vat_rate=f"{found.vat_rate_bp / 100:g}%",
        clashes=clash_texts(found.clashes, settings),
        hours_problem=found.opening_hours_problem,
    )
