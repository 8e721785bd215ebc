"""Helpers the desk pages share: reading local dates and times from forms, the choices in the
selects, and the price/clash check shown beside the booking form (the grid is in
:mod:`rooms.views.grid`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import DomainError
from hub.modules import Registry
from hub.money import format_pence
from hub.services import organisations
from rooms.models import BookingCategory, Room
from rooms.schemas import Clash, QuoteRequest
from rooms.services import quotes
from rooms.services import settings as building_settings
from rooms.services.rooms import RoomMap

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hhmm(value: datetime | time, settings: Settings | None = None) -> str:
    if isinstance(value, datetime) and settings is not None:
        value = value.astimezone(settings.zone)
    return f"{value:%H:%M}"


def money(pence: int | None) -> str:
    return format_pence(pence or 0)


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
    # An allowance covers the hire (it is then zero): why, in the allowance's words.
    allowance_note: str | None = None


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


def app_registry(request: Request[Any, Any, Any]) -> Registry:
    """The app's module registry (what pricing asks for allowances)."""
    registry: Registry = request.app.state.registry
    return registry


async def quote_for(
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    request: QuoteRequest,
    registry: Registry | None = None,
) -> QuoteView:
    """POST /api/v1/quotes' answer, for the form without JavaScript; a problem is shown, not raised."""
    try:
        found = await quotes.quote(db, settings, identity, request, registry=registry)
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
        allowance_note=found.allowance_note,
    )
