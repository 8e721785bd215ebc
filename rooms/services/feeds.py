"""iCalendar feeds of the building's schedule (RFC 5545), built from the same bookings the desk shows.

A series is one VEVENT with an RRULE in the building's time zone, EXDATEs for occurrences that
were skipped or cancelled, and RECURRENCE-ID overrides for occurrences that differ from the rule
(moved, retitled, in another room). One-off bookings are plain VEVENTs; cancelled ones within the
window are sent with STATUS:CANCELLED so calendars that hold them drop them.

Text is written directly (escaped and folded here) rather than through icalendar's object model:
a building feed holds thousands of events and is rebuilt whenever a booking changes. icalendar
makes the VTIMEZONE, and the tests parse every feed back with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from hub.config import Settings
from hub.db import utcnow
from rooms.models import LIVE_STATUSES, Booking, BookingCategory, BookingStatus, Room, Series, Visibility
from rooms.services.localtime import combine_local

PRIVATE_TITLE = "Private booking"
MAX_WINDOW = timedelta(days=3 * 366)
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

Audience = Literal["public", "full"]


@dataclass(frozen=True)
class FeedScope:
    """Which bookings a feed carries and how much of them it shows.

    ``public`` feeds show public bookings by their public title and private ones as "Private
    booking" (times only), or not at all; ``full`` feeds (an organisation's or a person's own,
    behind a secret token) show everything about the bookings they carry.
    """

    name: str
    audience: Audience
    room_ids: frozenset[int] | None = None
    category: str | None = None
    organisation_id: int | None = None
    created_by_id: int | None = None
    hide_private: bool = False
    link_base: str | None = None  # where a booking's URL points, for those allowed to see it


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive

    @classmethod
    def default(cls, settings: Settings, today: date | None = None) -> Window:
        today = today or utcnow().astimezone(settings.zone).date()
        return cls(
            today - timedelta(days=settings.feed_days_back), today + timedelta(days=settings.feed_days_ahead)
        )

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return combine_local(self.start, time(0), zone), combine_local(self.end, time(0), zone)


# --- text -----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = char, width, 74  # continuation lines start with a space
        else:
            current += char
            size += width
    parts.append(current)
    return "\r\n ".join(parts)


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def local_stamp(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y%m%dT%H%M%S")


@lru_cache(maxsize=32)
def vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    component = icalendar.Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )
    text: str = component.to_ical().decode()
    return text.strip()


# --- what each booking looks like in this feed -----------------------------------------------------


@dataclass
class Face:
    summary: str
    description: str
    location: str
    categories: str
    private: bool


def face(booking: Booking, scope: FeedScope, rooms: dict[int, Room], labels: dict[str, str]) -> Face:
    room = rooms[booking.room_id].name if booking.room_id in rooms else ""
    private = booking.visibility == Visibility.PRIVATE.value
    if scope.audience == "public" and private:
        return Face(PRIVATE_TITLE, "", room, "", True)
    if scope.audience == "public":
        return Face(booking.public_title or booking.title, "", room, labels.get(booking.category, ""), False)
    description = booking.notes if booking.notes else ""
    return Face(booking.title, description, room, labels.get(booking.category, ""), private)


def _event_lines(
    *,
    uid: str,
    sequence: int,
    stamp: datetime,
    modified: datetime,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    look: Face,
    status: str,
    url: str | None,
    extra: Iterable[str] = (),
) -> list[str]:
    tzid = zone.key
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"LAST-MODIFIED:{utc_stamp(modified)}",
        *extra,
        f"DTSTART;TZID={tzid}:{local_stamp(start, zone)}",
        f"DTEND;TZID={tzid}:{local_stamp(end, zone)}",
        f"SUMMARY:{escape(look.summary)}",
        f"STATUS:{status}",
        "TRANSP:OPAQUE",
    ]
    if look.location:
        lines.append(f"LOCATION:{escape(look.location)}")
    if look.categories:
        lines.append(f"CATEGORIES:{escape(look.categories)}")
    if look.description:
        lines.append(f"DESCRIPTION:{escape(look.description)}")
    if look.private:
        lines.append("CLASS:PRIVATE")
    if url:
        lines.append(f"URL:{url}")
    lines.append("END:VEVENT")
    return lines


def _status(booking: Booking) -> str:
    return {
        BookingStatus.CANCELLED.value: "CANCELLED",
        BookingStatus.PROVISIONAL.value: "TENTATIVE",
    }.get(booking.status, "CONFIRMED")


def _rrule(series: Series, zone: ZoneInfo) -> str:
    rule = series.rule
    parts = [f"FREQ={'WEEKLY' if rule['freq'] == 'weekly' else 'MONTHLY'}"]
    if rule.get("interval", 1) != 1:
        parts.append(f"INTERVAL={rule['interval']}")
    first = series.first_date_local
    if rule["freq"] == "weekly":
        days = rule.get("weekdays") or [first.weekday()]
        parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in days))
        parts.append("WKST=MO")
    elif rule.get("monthly_by") == "nth_weekday":
        nth = (first.day - 1) // 7 + 1
        parts.append(f"BYDAY={-1 if nth == 5 else nth}{WEEKDAY_CODES[first.weekday()]}")
    else:
        parts.append(f"BYMONTHDAY={first.day}")
    if series.count is not None:
        parts.append(f"COUNT={series.count}")
    elif series.until_local is not None:
        # UNTIL is inclusive; with a local DTSTART it is given in UTC (RFC 5545 §3.3.10).
        last = combine_local(series.until_local, series.start_time_local, zone)
        parts.append(f"UNTIL={utc_stamp(last)}")
    return "RRULE:" + ";".join(parts)


def _rule_instance(series: Series, original: datetime, zone: ZoneInfo) -> datetime:
    """Where the series' current rule puts the occurrence whose date ``original`` had.

    Not ``combine_local``: on a clock-change night the rule's time may not exist, and the feed
    must still name that instance (as an expander would generate it) rather than fail."""
    return datetime.combine(original.astimezone(zone).date(), series.start_time_local, tzinfo=zone)


# --- building the feed -------------------------------------------------------------------------------


def _conditions(scope: FeedScope) -> list[Any]:
    conditions: list[Any] = []
    if scope.room_ids is not None:
        conditions.append(Booking.room_id.in_(scope.room_ids))
    if scope.category is not None:
        conditions.append(Booking.category == scope.category)
    if scope.organisation_id is not None:
        conditions.append(Booking.organisation_id == scope.organisation_id)
    if scope.created_by_id is not None:
        conditions.append(Booking.created_by_id == scope.created_by_id)
    if scope.hide_private:
        conditions.append(Booking.visibility == Visibility.PUBLIC.value)
    return conditions


def in_scope(scope: FeedScope, booking: Booking) -> bool:
    """The same test as ``_conditions``, for bookings already loaded (and a series' template)."""
    return (
        (scope.room_ids is None or booking.room_id in scope.room_ids)
        and (scope.category is None or booking.category == scope.category)
        and (scope.organisation_id is None or booking.organisation_id == scope.organisation_id)
        and (scope.created_by_id is None or booking.created_by_id == scope.created_by_id)
        and not (scope.hide_private and booking.visibility == Visibility.PRIVATE.value)
    )


async def _bookings_in_scope(
    db: AsyncSession, scope: FeedScope, start: datetime, end: datetime
) -> tuple[list[Booking], list[Series], list[Booking]]:
    """One-off bookings in the window, the series with an occurrence in scope in the window, and
    every occurrence of those series (in scope or not: the feed must remove the ones that are not
    from what the series' rule would generate)."""
    conditions = _conditions(scope)
    in_window = [Booking.start_at < end, Booking.end_at > start]
    one_offs = list(
        await db.scalars(
            select(Booking)
            .options(lazyload(Booking.room))  # the feed names rooms from one small query
            .where(Booking.series_id.is_(None), *in_window, *conditions)
            .order_by(Booking.start_at, Booking.id)
        )
    )
    series_ids = (
        select(Booking.series_id).where(Booking.series_id.is_not(None), *in_window, *conditions).distinct()
    )
    series = list(await db.scalars(select(Series).where(Series.id.in_(series_ids)).order_by(Series.id)))
    occurrences = (
        list(
            await db.scalars(
                select(Booking)
                .options(lazyload(Booking.room))
                .where(Booking.series_id.in_([s.id for s in series]))
                .order_by(Booking.series_id, Booking.series_original_start, Booking.id)
            )
        )
        if series
        else []
    )
    return one_offs, series, occurrences


async def build_feed(
    db: AsyncSession, settings: Settings, scope: FeedScope, window: Window, *, hub_name: str, host: str
) -> bytes:
    """The feed as bytes. Queries: a bounded handful whatever the number of bookings."""
    zone = settings.zone
    start, end = window.bounds(zone)
    one_offs, series_list, occurrences = await _bookings_in_scope(db, scope, start, end)
    rooms = {room.id: room for room in await db.scalars(select(Room))}
    labels = {c.slug: c.label for c in await db.scalars(select(BookingCategory))}
    first_year = min([window.start.year] + [s.first_date_local.year for s in series_list])
    last_year = max([window.end.year] + [(s.until_local or window.end).year for s in series_list])
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hubkeeper//Room bookings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(f'{hub_name}: {scope.name}')}",
        f"X-WR-TIMEZONE:{zone.key}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        vtimezone(zone.key, max(first_year - 1, 1900), min(last_year + 1, 2200)),
    ]

    def url_for(booking: Booking) -> str | None:
        if scope.link_base is None:
            return None
        return f"{scope.link_base}{booking.id}"

    for booking in one_offs:
        if booking.status == BookingStatus.CANCELLED.value and booking.cancelled_at is None:
            continue
        lines += _event_lines(
            uid=f"booking-{booking.id}@{host}",
            sequence=booking.sequence,
            # DTSTAMP is the event's own last change, so one ETag always means one body.
            stamp=booking.updated_at,
            modified=booking.updated_at,
            start=booking.start_at,
            end=booking.end_at,
            zone=zone,
            look=face(booking, scope, rooms, labels),
            status=_status(booking),
            url=url_for(booking),
        )

    by_series: dict[int, list[Booking]] = {}
    for occurrence in occurrences:
        assert occurrence.series_id is not None
        by_series.setdefault(occurrence.series_id, []).append(occurrence)
    for series in series_list:
        lines += _series_lines(
            series, by_series.get(series.id, []), scope, rooms, labels, zone, host, url_for
        )
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) if "\n" not in line else line for line in lines) + "\r\n").encode()


def _series_lines(
    series: Series,
    occurrences: list[Booking],
    scope: FeedScope,
    rooms: dict[int, Room],
    labels: dict[str, str],
    zone: ZoneInfo,
    host: str,
    url_for: Any,
) -> list[str]:
    """The series' master VEVENT with its EXDATEs and overrides when the series itself belongs in
    this feed; otherwise only its occurrences that do, each as an event of its own."""
    if not occurrences:
        return []
    template = series.template
    master_start = combine_local(series.first_date_local, series.start_time_local, zone)
    duration = timedelta(minutes=series.duration_minutes)
    # What the rule generates unless an occurrence says otherwise.
    model = Booking(
        room_id=series.room_id,
        title=template["title"],
        public_title=template.get("public_title", ""),
        category=template["category"],
        visibility=template["visibility"],
        notes=template.get("notes", ""),
        organisation_id=series.organisation_id,
        created_by_id=series.created_by_id,
    )
    # The services bump the series' SEQUENCE once for every change to it or to any occurrence.
    sequence = series.sequence
    modified = max([series.updated_at, *(o.updated_at for o in occurrences)])
    if not in_scope(scope, model):
        lines: list[str] = []
        for occurrence in occurrences:
            if occurrence.status != BookingStatus.CANCELLED.value and in_scope(scope, occurrence):
                lines += _event_lines(
                    uid=f"booking-{occurrence.id}@{host}",
                    sequence=occurrence.sequence,
                    stamp=occurrence.updated_at,
                    modified=occurrence.updated_at,
                    start=occurrence.start_at,
                    end=occurrence.end_at,
                    zone=zone,
                    look=face(occurrence, scope, rooms, labels),
                    status="TENTATIVE"
                    if occurrence.status == BookingStatus.PROVISIONAL.value
                    else "CONFIRMED",
                    url=url_for(occurrence),
                )
        return lines
    master_face = face(model, scope, rooms, labels)
    exdates: list[datetime] = [
        _rule_instance(series, datetime.fromisoformat(skipped), zone) for skipped in series.skipped
    ]
    overrides: list[list[str]] = []
    for occurrence in occurrences:
        original = occurrence.series_original_start or occurrence.start_at
        instance = _rule_instance(series, original, zone)
        if occurrence.status == BookingStatus.CANCELLED.value or not in_scope(scope, occurrence):
            # Removed from this feed: cancelled, or moved out of it (another room, made private…).
            exdates.append(instance)
            continue
        look = face(occurrence, scope, rooms, labels)
        same = (
            occurrence.start_at == instance
            and occurrence.end_at == instance + duration
            and look == master_face
            and occurrence.status == BookingStatus.CONFIRMED.value
        )
        if same:
            continue
        overrides.append(
            _event_lines(
                uid=f"series-{series.id}@{host}",
                sequence=sequence,
                stamp=occurrence.updated_at,
                modified=occurrence.updated_at,
                start=occurrence.start_at,
                end=occurrence.end_at,
                zone=zone,
                look=look,
                status=_status(occurrence),
                url=url_for(occurrence),
                extra=[f"RECURRENCE-ID;TZID={zone.key}:{local_stamp(instance, zone)}"],
            )
        )
    extra = [_rrule(series, zone)]
    if exdates:
        values = ",".join(sorted({local_stamp(value, zone) for value in exdates}))
        extra.append(f"EXDATE;TZID={zone.key}:{values}")
    master = _event_lines(
        uid=f"series-{series.id}@{host}",
        sequence=sequence,
        stamp=modified,
        modified=modified,
        start=master_start,
        end=master_start + duration,
        zone=zone,
        look=master_face,
        status="CONFIRMED",
        url=None,
        extra=extra,
    )
    result = list(master)
    for override in overrides:
        result += override
    return result


async def feed_version(
    db: AsyncSession, scope: FeedScope, window: Window, settings: Settings
) -> tuple[str, datetime]:
    """A strong ETag and Last-Modified from two small aggregate queries, without building the feed.

    Every change to a booking or series bumps its ``updated_at``; nothing is ever deleted, so
    (count, latest change) per scope changes whenever the feed would.
    """
    start, end = window.bounds(settings.zone)
    conditions: list[Any] = [
        or_(Booking.series_id.is_not(None), (Booking.start_at < end) & (Booking.end_at > start)),
        *_conditions(scope),
    ]
    count, latest = (
        await db.execute(select(func.count(), func.max(Booking.updated_at)).where(*conditions))
    ).one()
    series_latest = await db.scalar(select(func.max(Series.updated_at)))
    rooms_latest = await db.scalar(select(func.max(Room.updated_at)))
    stamps = [s for s in (latest, series_latest, rooms_latest) if s is not None]
    modified = max(stamps) if stamps else datetime(2000, 1, 1, tzinfo=UTC)
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    key = f"{scope}|{window}|{count}|{modified.isoformat()}|{settings.timezone}|{LIVE_STATUSES}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"', modified
