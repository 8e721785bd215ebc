"""Helpers the desk pages share: reading local dates and times from forms, the choices in the
selects, the grid of 15-minute rows, and the price/clash check shown beside the booking form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import DomainError, FieldError, InvalidInput
from hub.models import RateBand
from hub.money import format_pence
from hub.schemas import convert_input
from hub.services import organisations
from rooms.models import BookingCategory, Room
from rooms.schemas import BookingOut, Clash
from rooms.services import pricing
from rooms.services.bookings import busy_span, check_parts, check_times, find_clashes
from rooms.services.calendar import BuildingCalendar, DayHours
from rooms.services.localtime import instant
from rooms.services.rooms import RoomMap, get_room

SLOT_MINUTES = 15
DEFAULT_OPENS = time(8, 0)
DEFAULT_CLOSES = time(22, 0)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def today_local(settings: Settings) -> date:
    return utcnow().astimezone(settings.zone).date()


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
    categories = list(
        await db.scalars(
            select(BookingCategory).where(BookingCategory.active).order_by(BookingCategory.position)
        )
    )
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
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    *,
    room_id: int,
    organisation_id: int,
    start_local: datetime,
    end_local: datetime,
    exclude_booking_id: int | None = None,
    band: RateBand | None = None,
) -> QuoteView:
    """The same check as POST /api/v1/quotes, for the form without JavaScript. Writes nothing."""
    zone = settings.zone
    try:
        start = instant(start_local, zone, field="start")
        end = instant(end_local, zone, field="end")
        check_times(start, end)
        room = await get_room(db, room_id, field="room_id")
        if band is None:
            parts = await check_parts(
                db,
                identity,
                room_id=room.id,
                organisation_id=organisation_id,
                category="other",
                visibility=None,
                band=None,
                expected_attendance=None,
            )
            band = parts.band
        price = await pricing.price_for(db, room, band, start, end)
    except DomainError as exc:
        return QuoteView(problem=exc.detail)
    room_map = await RoomMap.load(db)
    busy_start, busy_end = busy_span(start, end, room.setup_minutes, room.cleardown_minutes)
    exclude = {exclude_booking_id} if exclude_booking_id else None
    clashes = await find_clashes(db, room_map, room.id, busy_start, busy_end, exclude_booking_ids=exclude)
    calendar = await BuildingCalendar.load(
        db, settings, start.astimezone(zone).date(), end.astimezone(zone).date()
    )
    return QuoteView(
        description=price.description,
        net=money(price.net_pence),
        vat=money(price.vat_pence),
        gross=money(price.gross_pence),
        vat_rate=f"{price.vat_rate_bp / 100:g}%",
        clashes=clash_texts(clashes, settings),
        hours_problem=calendar.problem(start.astimezone(zone), end.astimezone(zone)),
    )


# --- the grid -----------------------------------------------------------------------------------


@dataclass
class GridItem:
    """A booking placed in a column: its own (``blocked`` False) or a combined room's."""

    booking: BookingOut
    row_start: int
    row_end: int
    blocked: bool
    time_label: str
    lane: int = 0
    lanes: int = 1


@dataclass
class GridSlot:
    row: int
    clock: str
    href: str
    label: str


@dataclass
class GridColumn:
    key: str
    heading: str
    subheading: str
    closed_reason: str | None
    items: list[GridItem]
    slots: list[GridSlot]
    link: str | None = None
    # Rows (1-based, end exclusive) inside opening hours; the rest are shaded.
    open_rows: tuple[int, int] | None = None

    def is_open_row(self, row: int) -> bool:
        return self.open_rows is not None and self.open_rows[0] <= row < self.open_rows[1]

    @property
    def entries(self) -> list[tuple[int, GridItem | None, GridSlot | None]]:
        """Bookings and free slots in time order: the order keyboard focus moves down a column."""
        merged: list[tuple[int, int, GridItem | None, GridSlot | None]] = [
            (i.row_start, 0, i, None) for i in self.items
        ]
        merged += [(s.row, 1, None, s) for s in self.slots]
        merged.sort(key=lambda e: (e[0], e[1]))
        return [(row, item, slot) for row, _, item, slot in merged]


@dataclass
class Grid:
    first_minute: int
    rows: int
    columns: list[GridColumn]

    @property
    def hour_marks(self) -> list[tuple[int, str]]:
        """(row, "HH:MM") for each row that starts an hour or the grid's first row."""
        marks = []
        for index in range(self.rows):
            minute = self.first_minute + index * SLOT_MINUTES
            if minute % 60 == 0 or index == 0:
                marks.append((index + 1, f"{minute // 60:02d}:{minute % 60:02d}"))
        return marks

    @property
    def row_clocks(self) -> list[str]:
        out = []
        for index in range(self.rows):
            minute = self.first_minute + index * SLOT_MINUTES
            out.append(f"{minute // 60:02d}:{minute % 60:02d}")
        return out


def minutes_into_day(value: datetime, day: date, settings: Settings) -> int:
    """Local minutes since the day's midnight, clamped to the day (for bookings over midnight)."""
    local = value.astimezone(settings.zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def grid_bounds(
    calendar: BuildingCalendar, days: list[date], spans: list[tuple[int, int]]
) -> tuple[int, int]:
    """First and last minute of the grid: earliest opening to latest closing, widened to fit any
    booking outside opening hours, on whole quarter hours."""
    opens: list[int] = []
    closes: list[int] = []
    for day in days:
        hours = calendar.day(day)
        if hours.opens is not None and hours.closes is not None:
            opens.append(hours.opens.hour * 60 + hours.opens.minute)
            closes.append(hours.closes.hour * 60 + hours.closes.minute)
    if not opens:
        for o, c in calendar.hours.values():
            opens.append(o.hour * 60 + o.minute)
            closes.append(c.hour * 60 + c.minute)
    first = min(opens) if opens else DEFAULT_OPENS.hour * 60
    last = max(closes) if closes else DEFAULT_CLOSES.hour * 60
    for start, end in spans:
        first, last = min(first, start), max(last, end)
    first = first // SLOT_MINUTES * SLOT_MINUTES
    last = -(-last // SLOT_MINUTES) * SLOT_MINUTES
    return first, max(last, first + SLOT_MINUTES)


def place(
    booking: BookingOut, day: date, first_minute: int, settings: Settings, *, blocked: bool
) -> GridItem:
    start = minutes_into_day(booking.start, day, settings)
    end = minutes_into_day(booking.end, day, settings)
    row_start = (start - first_minute) // SLOT_MINUTES + 1
    row_end = -(-(end - first_minute) // SLOT_MINUTES) + 1
    label = f"{hhmm(booking.start, settings)}–{hhmm(booking.end, settings)}"
    return GridItem(booking, row_start, max(row_end, row_start + 1), blocked, label)


def assign_lanes(items: list[GridItem]) -> None:
    """Items that share a row after rounding to the grid sit side by side, not on top."""
    items.sort(key=lambda i: (i.row_start, i.blocked, i.row_end))
    cluster: list[GridItem] = []
    cluster_end = 0
    lane_ends: list[int] = []

    def close() -> None:
        for member in cluster:
            member.lanes = len(lane_ends)

    for item in items:
        if cluster and item.row_start >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for lane, end in enumerate(lane_ends):
            if end <= item.row_start:
                item.lane = lane
                lane_ends[lane] = item.row_end
                break
        else:
            item.lane = len(lane_ends)
            lane_ends.append(item.row_end)
        cluster.append(item)
        cluster_end = max(cluster_end, item.row_end)
    if cluster:
        close()


def free_slots(items: list[GridItem], first_minute: int, rows: int, href: str, label: str) -> list[GridSlot]:
    """One link per empty quarter hour: ``href`` and ``label`` have ``{clock}`` filled in."""
    taken: set[int] = set()
    for item in items:
        taken.update(range(item.row_start, item.row_end))
    slots = []
    for row in range(1, rows + 1):
        if row in taken:
            continue
        minute = first_minute + (row - 1) * SLOT_MINUTES
        clock = f"{minute // 60:02d}:{minute % 60:02d}"
        slots.append(GridSlot(row, clock, href.format(clock=clock), label.format(clock=clock)))
    return slots


def open_rows(hours: DayHours, first_minute: int) -> tuple[int, int] | None:
    if not hours.open or hours.opens is None or hours.closes is None:
        return None
    opens = hours.opens.hour * 60 + hours.opens.minute
    closes = hours.closes.hour * 60 + hours.closes.minute
    return (opens - first_minute) // SLOT_MINUTES + 1, -(-(closes - first_minute) // SLOT_MINUTES) + 1


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
