"""The desk's day and week grid: bookings placed in 15-minute rows, side by side where they share
a row, with a link for every free quarter hour. Layout only: the bookings come from services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hub.config import Settings
from rooms.schemas import BookingOut
from rooms.services.calendar import BuildingCalendar, DayHours
from rooms.views.common import hhmm

SLOT_MINUTES = 15
DEFAULT_OPENS = time(8, 0)
DEFAULT_CLOSES = time(22, 0)


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
