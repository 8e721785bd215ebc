"""iCalendar feeds of the building's schedule (RFC 5545), built from the same bookings the desk shows.

A series is one VEVENT with an RRULE in the building's time zone, EXDATEs for occurrences that
were skipped or cancelled, and RECURRENCE-ID overrides for occurrences that differ from the rule
(moved, retitled, in another room). One-off bookings are plain VEVENTs; cancelled ones within the
window are sent with STATUS:CANCELLED so calendars that hold them drop them.

Text is written directly (escaped and folded here), the VTIMEZONE included, rather than through
icalendar's object model: a building feed holds thousands of events. A provisional hold past its
expiry is gone from the moment it expires (decided in the query, at read time). Each body is built
once per version (ETag) and served from those bytes until something it is made from changes.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.db import utcnow
from rooms.models import Booking, BookingCategory, BookingStatus, Room, Series, Visibility, hold_expired_at
from rooms.services import visibility
from rooms.services.localtime import combine_local

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
        today = today or settings.today()
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


# --- the time zone ----------------------------------------------------------------------------------
#
# Written by hand rather than by icalendar, in the form calendar servers write and every reader
# understands: while the zone follows a fixed yearly rule, one STANDARD and one DAYLIGHT
# observance with an open RRULE (so the VTIMEZONE is right for as long as any series recurs);
# before that, or for a zone without a fixed rule, one observance per clock change with only a
# DTSTART. Never RDATE: Mozilla's ical.js reads only the first value of an RDATE line and ignores
# an observance's DTSTART once it has RDATEs.

FIRST_YEAR = 1900
LAST_YEAR = 2200
# Far enough that zoneinfo is on its closing rule (from 2038) through a whole 28-year weekday cycle.
RULE_CHECKED_UNTIL = 2066


@dataclass(frozen=True)
class Change:
    """A clock change: the instant (UTC), the offsets either side, and what the clock is called after."""

    at: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def _state(zone: ZoneInfo, at: datetime) -> tuple[timedelta, str, bool]:
    local = at.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.tzname() or "", bool(local.dst())


@lru_cache(maxsize=4096)
def _changes_in(tzid: str, year: int) -> tuple[Change, ...]:
    """Every clock change of the zone in a UTC year: a scan a week at a time (no zone has changed
    its clocks and back again within a week), then a binary search to the second."""
    zone = ZoneInfo(tzid)
    found: list[Change] = []
    step = timedelta(days=7)
    at = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _state(zone, at - timedelta(seconds=1))
    while at < end:
        upto = min(at + step, end)
        after = _state(zone, upto - timedelta(seconds=1))
        if after != before:
            low, high = at - timedelta(seconds=1), upto - timedelta(seconds=1)  # state differs at high
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _state(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            state = _state(zone, high)
            found.append(Change(high, before[0], state[0], state[1], state[2]))
            before = state
            if state != after:  # two changes inside a week: look at the rest of the span again
                at = high + timedelta(seconds=1)
                continue
        before = after
        at = upto
    return tuple(found)


def _local_start(change: Change) -> datetime:
    """The change as the observance's DTSTART: wall-clock time in the offset it changes from."""
    return (change.at + change.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class YearlyRule:
    """A change made every year on the nth (or last, -1) weekday of a month at one wall-clock time."""

    month: int
    weekday: int
    nth: int
    wall: time
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    def on(self, year: int) -> datetime:
        """The instant (UTC) of this year's change."""
        if self.nth > 0:
            day = date(year, self.month, 1)
            day += timedelta(days=(self.weekday - day.weekday()) % 7 + 7 * (self.nth - 1))
        else:
            following = date(year + self.month // 12, self.month % 12 + 1, 1)
            day = following - timedelta(days=1)
            day -= timedelta(days=(day.weekday() - self.weekday) % 7)
        return (datetime.combine(day, self.wall) - self.offset_from).replace(tzinfo=UTC)

    def rrule(self) -> str:
        return f"RRULE:FREQ=YEARLY;BYMONTH={self.month};BYDAY={self.nth}{WEEKDAY_CODES[self.weekday]}"


def _candidates(change: Change) -> list[YearlyRule]:
    local = _local_start(change)
    following = date(local.year + local.month // 12, local.month % 12 + 1, 1)
    nths = [(local.day - 1) // 7 + 1]
    if (following - local.date()).days <= 7:
        nths.insert(0, -1)  # "last" is how such rules are usually made
    return [
        YearlyRule(
            local.month,
            local.weekday(),
            nth,
            local.time(),
            change.offset_from,
            change.offset_to,
            change.name,
            change.daylight,
        )
        for nth in nths
    ]


def _matches(rules: tuple[YearlyRule, ...], tzid: str, year: int) -> bool:
    if year < FIRST_YEAR:
        return False
    changes = _changes_in(tzid, year)
    expected = sorted((rule.on(year), rule.offset_from, rule.offset_to, rule.name) for rule in rules)
    return expected == [(c.at, c.offset_from, c.offset_to, c.name) for c in changes]


@lru_cache(maxsize=32)
def _closing_rules(tzid: str) -> tuple[int, tuple[YearlyRule, ...]] | None:
    """The fixed yearly rules the zone follows from some year on (checked through 2100, by when
    zoneinfo applies the zone's closing rule), and that first year; None if it has none."""
    last = _changes_in(tzid, RULE_CHECKED_UNTIL)
    if not last:
        return None
    options: list[tuple[YearlyRule, ...]] = [()]
    for change in last:
        options = [(*chosen, rule) for chosen in options for rule in _candidates(change)]
    best: tuple[int, tuple[YearlyRule, ...]] | None = None
    for rules in options:
        year = RULE_CHECKED_UNTIL
        while _matches(rules, tzid, year - 1):
            year -= 1
        if year < RULE_CHECKED_UNTIL - 30 and (best is None or year < best[0]):
            best = (year, rules)
    return best


def _observance(
    kind: bool, start: datetime, offset_from: timedelta, offset_to: timedelta, name: str
) -> list[str]:
    component = "DAYLIGHT" if kind else "STANDARD"
    return [
        f"BEGIN:{component}",
        f"DTSTART:{start.strftime('%Y%m%dT%H%M%S')}",
        f"TZOFFSETFROM:{_offset(offset_from)}",
        f"TZOFFSETTO:{_offset(offset_to)}",
        f"TZNAME:{escape(name)}",
        f"END:{component}",
    ]


def _offset(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE for instants from ``first_year`` through ``last_year`` (and, where the zone
    has a fixed yearly rule, for ever after)."""
    first_year = min(max(first_year, FIRST_YEAR), LAST_YEAR)
    last_year = min(max(last_year, first_year), LAST_YEAR)
    closing = _closing_rules(tzid)
    ruled_from = closing[0] if closing is not None else LAST_YEAR + 1
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    listed_until = min(last_year, ruled_from - 1)
    changes = [c for year in range(first_year, listed_until + 1) for c in _changes_in(tzid, year)]
    if closing is not None and last_year >= ruled_from:
        start_year = max(first_year, ruled_from)
        for rule in closing[1]:
            start = (rule.on(start_year) + rule.offset_from).replace(tzinfo=None)
            observance = _observance(rule.daylight, start, rule.offset_from, rule.offset_to, rule.name)
            observance.insert(2, rule.rrule())
            lines += observance
    elif not changes:
        # No change in the years the feed needs (a zone without summer time): one observance that
        # states the offset from well before them.
        zone = ZoneInfo(tzid)
        offset, name, daylight = _state(zone, datetime(first_year, 1, 1, tzinfo=UTC))
        lines += _observance(
            daylight, datetime(first_year - 1, 1, 1, tzinfo=UTC).replace(tzinfo=None), offset, offset, name
        )
    for change in changes:
        lines += _observance(
            change.daylight, _local_start(change), change.offset_from, change.offset_to, change.name
        )
    lines.append("END:VTIMEZONE")
    return "\r\n".join(lines)


# --- what each booking looks like in this feed -----------------------------------------------------

# The status a provisional hold past its expiry is read with (rooms.models.hold_expired_at, decided
# in the query at read time): gone from the moment it expires, whether or not a write swept it.
EXPIRED = "expired"


class Shown(Protocol):
    """What a feed reads of a booking, or of a series' template (a row, not an ORM object)."""

    @property
    def room_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def public_title(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def visibility(self) -> str: ...
    @property
    def notes(self) -> str: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def created_by_id(self) -> int | None: ...


@dataclass(frozen=True)
class Template:
    """What a series' rule generates unless an occurrence says otherwise."""

    room_id: int
    title: str
    public_title: str
    category: str
    visibility: str
    notes: str
    organisation_id: int
    created_by_id: int | None


@dataclass
class Face:
    summary: str
    description: str
    location: str
    categories: str
    private: bool


def face(booking: Shown, scope: FeedScope, rooms: dict[int, str], labels: dict[str, str]) -> Face:
    """How the booking looks in this feed: a private feed sees it in full, a public one as
    :mod:`rooms.services.visibility` says the public sees it."""
    seen_as = visibility.sight(booking, full=scope.audience == "full")
    private = booking.visibility == Visibility.PRIVATE.value
    return Face(
        summary=visibility.title_for(booking, seen_as),
        description=(booking.notes or "") if seen_as is visibility.Sight.FULL else "",
        location=rooms.get(booking.room_id, ""),
        categories="" if seen_as is visibility.Sight.PRIVATE else labels.get(booking.category, ""),
        private=private,
    )


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
        fold(f"UID:{uid}"),
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"LAST-MODIFIED:{utc_stamp(modified)}",
        *extra,
        f"DTSTART;TZID={tzid}:{local_stamp(start, zone)}",
        f"DTEND;TZID={tzid}:{local_stamp(end, zone)}",
        fold(f"SUMMARY:{escape(look.summary)}"),
        f"STATUS:{status}",
        "TRANSP:OPAQUE",
    ]
    if look.location:
        lines.append(fold(f"LOCATION:{escape(look.location)}"))
    if look.categories:
        lines.append(fold(f"CATEGORIES:{escape(look.categories)}"))
    if look.description:
        lines.append(fold(f"DESCRIPTION:{escape(look.description)}"))
    if look.private:
        lines.append("CLASS:PRIVATE")
    if url:
        lines.append(fold(f"URL:{url}"))
    lines.append("END:VEVENT")
    return lines


def _status(status: str) -> str:
    return {
        BookingStatus.CANCELLED.value: "CANCELLED",
        EXPIRED: "CANCELLED",
        BookingStatus.PROVISIONAL.value: "TENTATIVE",
    }.get(status, "CONFIRMED")


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


# --- reading the bookings ------------------------------------------------------------------------------


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
        conditions.append(visibility.not_hidden())
    return conditions


def in_scope(scope: FeedScope, booking: Shown) -> bool:
    """The same test as ``_conditions``, for bookings already loaded (and a series' template)."""
    return (
        (scope.room_ids is None or booking.room_id in scope.room_ids)
        and (scope.category is None or booking.category == scope.category)
        and (scope.organisation_id is None or booking.organisation_id == scope.organisation_id)
        and (scope.created_by_id is None or booking.created_by_id == scope.created_by_id)
        and not visibility.is_hidden(scope.hide_private, booking)
    )


def _columns(now: datetime) -> list[Any]:
    """Only what the feed shows (rows, not ORM objects: a building feed reads tens of thousands)."""
    return [
        Booking.id,
        Booking.series_id,
        Booking.series_original_start,
        Booking.room_id,
        Booking.organisation_id,
        Booking.created_by_id,
        Booking.title,
        Booking.public_title,
        Booking.category,
        Booking.visibility,
        Booking.notes,
        case((hold_expired_at(now), literal(EXPIRED)), else_=Booking.status).label("status"),
        Booking.start_at,
        Booking.end_at,
        Booking.sequence,
        Booking.updated_at,
        Booking.cancelled_at,
    ]


@dataclass(frozen=True)
class SeriesSummary:
    """What a series' occurrences add up to, from one aggregate query."""

    occurrences: int
    last_change: datetime
    last_start: datetime
    last_end: datetime


def _as_rule_makes_it() -> Any:
    """An occurrence exactly as its series' rule and template make it: confirmed, never edited on
    its own, where the rule put it, with the template's words. Most of a long series is this, and
    a feed needs nothing of its own for it, so such rows are counted in SQL and never fetched.
    (Each comparison is NULL-safe, so that the negation is too.)"""
    template = Series.template
    return and_(
        Booking.status == BookingStatus.CONFIRMED.value,
        Booking.is_exception.is_(False),
        Booking.series_original_start.is_not_distinct_from(Booking.start_at),
        Booking.room_id == Series.room_id,
        Booking.organisation_id == Series.organisation_id,
        Booking.created_by_id.is_not_distinct_from(Series.created_by_id),
        Booking.title.is_not_distinct_from(template["title"].as_string()),
        Booking.public_title.is_not_distinct_from(func.coalesce(template["public_title"].as_string(), "")),
        Booking.category.is_not_distinct_from(template["category"].as_string()),
        Booking.visibility.is_not_distinct_from(template["visibility"].as_string()),
        Booking.notes.is_not_distinct_from(func.coalesce(template["notes"].as_string(), "")),
    )


async def _bookings_in_scope(
    db: AsyncSession, scope: FeedScope, start: datetime, end: datetime, now: datetime
) -> tuple[list[Any], list[Series], dict[int, SeriesSummary], list[Any]]:
    """One-off bookings in the window; the series with an occurrence in scope in the window, with
    a summary of all their occurrences; and those occurrences that differ from their series' rule
    (in scope or not: the feed must remove the ones that are not from what the rule generates)."""
    conditions = _conditions(scope)
    in_window = [Booking.start_at < end, Booking.end_at > start]
    one_offs = list(
        await db.execute(
            select(*_columns(now))
            .where(Booking.series_id.is_(None), *in_window, *conditions)
            .order_by(Booking.start_at, Booking.id)
        )
    )
    series_ids = (
        select(Booking.series_id).where(Booking.series_id.is_not(None), *in_window, *conditions).distinct()
    )
    series = list(await db.scalars(select(Series).where(Series.id.in_(series_ids)).order_by(Series.id)))
    if not series:
        return one_offs, [], {}, []
    chosen = [s.id for s in series]
    return one_offs, series, await _summaries(db, chosen), await _differing(db, chosen, now)


async def _summaries(db: AsyncSession, chosen: list[int]) -> dict[int, SeriesSummary]:
    return {
        series_id or 0: SeriesSummary(count, _aware(changed), _aware(last_start), _aware(last_end))
        for series_id, count, changed, last_start, last_end in await db.execute(
            select(
                Booking.series_id,
                func.count(),
                func.max(Booking.updated_at),
                func.max(func.coalesce(Booking.series_original_start, Booking.start_at)),
                func.max(Booking.end_at),
            )
            .where(Booking.series_id.in_(chosen))
            .group_by(Booking.series_id)
        )
    }


async def _differing(db: AsyncSession, chosen: list[int], now: datetime) -> list[Any]:
    return list(
        await db.execute(
            select(*_columns(now))
            .join(Series, Series.id == Booking.series_id)
            .where(Booking.series_id.in_(chosen), ~_as_rule_makes_it())
            .order_by(Booking.series_id, Booking.series_original_start, Booking.id)
        )
    )


async def _names(db: AsyncSession) -> tuple[dict[int, str], dict[str, str]]:
    """Every room's name and every category's label: the words a feed shows besides the bookings'."""
    rooms = {room_id: name for room_id, name in await db.execute(select(Room.id, Room.name))}
    labels = {
        slug: label for slug, label in await db.execute(select(BookingCategory.slug, BookingCategory.label))
    }
    return rooms, labels


def booking_uid(booking_id: int, host: str) -> str:
    """A one-off booking's UID (and a series occurrence's when the series is not in the feed)."""
    return f"booking-{booking_id}@{host}"


def series_uid(series_id: int, host: str) -> str:
    """A series' UID: its master event and every RECURRENCE-ID override share it."""
    return f"series-{series_id}@{host}"


def uid_domain(hub_name: str) -> str:
    """Stable UIDs whatever address the hub is reached by: calendar apps key events on them."""
    slug = re.sub(r"[^a-z0-9]+", "-", hub_name.lower()).strip("-") or "hub"
    return f"{slug}.hubkeeper"


# --- building the feed -------------------------------------------------------------------------------


def _last_instance(series: Series, summary: SeriesSummary, zone: ZoneInfo) -> datetime:
    """The latest instant the series' RRULE produces: every instance is stored (as an occurrence
    or as skipped), and UNTIL bounds the rest."""
    candidates: list[datetime] = [summary.last_start, summary.last_end]
    candidates += [datetime.fromisoformat(s) for s in series.skipped]
    if series.until_local is not None:
        candidates.append(_rule_instance(series, combine_local(series.until_local, time(12), zone), zone))
    return max(candidates)


async def build_feed(
    db: AsyncSession,
    settings: Settings,
    scope: FeedScope,
    window: Window,
    *,
    hub_name: str,
    host: str,
    now: datetime | None = None,
) -> bytes:
    """The feed as bytes. Queries: a bounded handful whatever the number of bookings."""
    zone = settings.zone
    now = now or utcnow()
    start, end = window.bounds(zone)
    one_offs, series_list, summaries, occurrences = await _bookings_in_scope(db, scope, start, end, now)
    rooms, labels = await _names(db)

    by_series: dict[int, list[Any]] = {}
    for occurrence in occurrences:
        by_series.setdefault(occurrence.series_id, []).append(occurrence)
    # The VTIMEZONE must cover every instance an RRULE here produces, not only the window.
    first_year = min([window.start.year] + [s.first_date_local.year for s in series_list])
    last_year = max(
        [window.end.year]
        + [_last_instance(s, summaries[s.id], zone).astimezone(zone).year for s in series_list]
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hubkeeper//Room bookings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        fold(f"X-WR-CALNAME:{escape(f'{hub_name}: {scope.name}')}"),
        f"X-WR-TIMEZONE:{zone.key}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        vtimezone(zone.key, first_year - 1, last_year + 1),
    ]

    def url_for(booking: Any) -> str | None:
        if scope.link_base is None:
            return None
        return f"{scope.link_base}{booking.id}"

    for booking in one_offs:
        if booking.status == BookingStatus.CANCELLED.value and booking.cancelled_at is None:
            continue
        lines += _event_lines(
            uid=booking_uid(booking.id, host),
            sequence=booking.sequence,
            # DTSTAMP is the event's own last change, so one ETag always means one body.
            stamp=booking.updated_at,
            modified=booking.updated_at,
            start=booking.start_at,
            end=booking.end_at,
            zone=zone,
            look=face(booking, scope, rooms, labels),
            status=_status(booking.status),
            url=url_for(booking),
        )

    for series in series_list:
        lines += _series_lines(
            series,
            summaries[series.id],
            by_series.get(series.id, []),
            scope,
            rooms,
            labels,
            zone,
            host,
            url_for,
        )
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _series_lines(
    series: Series,
    summary: SeriesSummary,
    occurrences: list[Any],
    scope: FeedScope,
    rooms: dict[int, str],
    labels: dict[str, str],
    zone: ZoneInfo,
    host: str,
    url_for: Any,
) -> list[str]:
    """The series' master VEVENT with its EXDATEs and overrides when the series itself belongs in
    this feed; otherwise only its occurrences that do, each as an event of its own.

    ``occurrences`` are those that differ from the rule: the rest need nothing of their own (and
    share the template's scope, so when the series is out of this feed, so are they)."""
    if summary.occurrences == 0:
        return []
    template = series.template
    master_start = combine_local(series.first_date_local, series.start_time_local, zone)
    duration = timedelta(minutes=series.duration_minutes)
    model = Template(
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
    modified = max(_aware(series.updated_at), summary.last_change)
    gone = (BookingStatus.CANCELLED.value, EXPIRED)
    if not in_scope(scope, model):
        lines: list[str] = []
        for occurrence in occurrences:
            if occurrence.status not in gone and in_scope(scope, occurrence):
                lines += _event_lines(
                    uid=booking_uid(occurrence.id, host),
                    sequence=occurrence.sequence,
                    stamp=occurrence.updated_at,
                    modified=occurrence.updated_at,
                    start=occurrence.start_at,
                    end=occurrence.end_at,
                    zone=zone,
                    look=face(occurrence, scope, rooms, labels),
                    status=_status(occurrence.status),
                    url=url_for(occurrence),
                )
        return lines
    master_face = face(model, scope, rooms, labels)
    # An occurrence exactly as the rule makes it needs nothing of its own: compared as plain
    # values first, since most of a long series is that.
    plain = (
        model.room_id,
        model.title,
        model.public_title,
        model.category,
        model.visibility,
        model.notes,
        model.organisation_id,
        model.created_by_id,
        BookingStatus.CONFIRMED.value,
    )
    wall = series.start_time_local
    exdates: list[datetime] = [
        _rule_instance(series, datetime.fromisoformat(skipped), zone) for skipped in series.skipped
    ]
    overrides: list[list[str]] = []
    for occurrence in occurrences:
        original = occurrence.series_original_start or occurrence.start_at
        local_start = occurrence.start_at.astimezone(zone)
        if (
            original == occurrence.start_at
            and local_start.time() == wall
            and occurrence.end_at - occurrence.start_at == duration
            and (
                occurrence.room_id,
                occurrence.title,
                occurrence.public_title,
                occurrence.category,
                occurrence.visibility,
                occurrence.notes,
                occurrence.organisation_id,
                occurrence.created_by_id,
                occurrence.status,
            )
            == plain
        ):
            continue
        instance = _rule_instance(series, original, zone)
        if occurrence.status in gone or not in_scope(scope, occurrence):
            # Removed from this feed: cancelled, expired, or moved out of it (another room, made private…).
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
                uid=series_uid(series.id, host),
                sequence=sequence,
                stamp=occurrence.updated_at,
                modified=occurrence.updated_at,
                start=occurrence.start_at,
                end=occurrence.end_at,
                zone=zone,
                look=look,
                status=_status(occurrence.status),
                url=url_for(occurrence),
                extra=[f"RECURRENCE-ID;TZID={zone.key}:{local_stamp(instance, zone)}"],
            )
        )
    extra = [fold(_rrule(series, zone))]
    if exdates:
        values = ",".join(sorted({local_stamp(value, zone) for value in exdates}))
        extra.append(fold(f"EXDATE;TZID={zone.key}:{values}"))
    master = _event_lines(
        uid=series_uid(series.id, host),
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


# --- one booking or one series as a feed writes it (the .ics a message carries) --------------------

# Everything about the booking, as an organisation's own (token) feed shows it: a message about a
# booking goes only to that booking's own contact.
INVITATION = FeedScope(name="invitation", audience="full")


@dataclass(frozen=True)
class Events:
    """VEVENT lines and the years their instances span (what the VTIMEZONE must cover)."""

    lines: list[str]
    first_year: int
    last_year: int


async def booking_events(
    db: AsyncSession, settings: Settings, bookings: list[Booking], *, host: str
) -> Events:
    """Each booking as the feeds name it: a one-off under its own UID and SEQUENCE; a series
    occurrence as an override of its series (the series' UID and SEQUENCE, with RECURRENCE-ID at
    the instance the rule gave it). Status as the feed says it (cancelled: STATUS:CANCELLED)."""
    await db.flush()  # the series' SEQUENCE is bumped in SQL: read it after this operation's writes
    zone = settings.zone
    rooms, labels = await _names(db)
    series_ids = {b.series_id for b in bookings if b.series_id is not None}
    series: dict[int, Series] = {}
    if series_ids:
        found = await db.scalars(
            select(Series).where(Series.id.in_(series_ids)).execution_options(populate_existing=True)
        )
        series = {s.id: s for s in found}
    lines: list[str] = []
    years: list[int] = []
    for booking in bookings:
        look = face(booking, INVITATION, rooms, labels)
        common: dict[str, Any] = {
            "stamp": booking.updated_at,
            "modified": booking.updated_at,
            "start": booking.start_at,
            "end": booking.end_at,
            "zone": zone,
            "look": look,
            "status": _status(booking.status),
            "url": None,
        }
        owner = series.get(booking.series_id) if booking.series_id is not None else None
        if owner is None:
            lines += _event_lines(uid=booking_uid(booking.id, host), sequence=booking.sequence, **common)
        else:
            instance = _rule_instance(owner, booking.series_original_start or booking.start_at, zone)
            recurrence = f"RECURRENCE-ID;TZID={zone.key}:{local_stamp(instance, zone)}"
            lines += _event_lines(
                uid=series_uid(owner.id, host), sequence=owner.sequence, extra=[recurrence], **common
            )
            years.append(instance.astimezone(zone).year)
        years += [booking.start_at.astimezone(zone).year, booking.end_at.astimezone(zone).year]
    today = utcnow().astimezone(zone).year
    return Events(lines, min(years, default=today), max(years, default=today))


async def series_events(
    db: AsyncSession, settings: Settings, series: Series, *, host: str, now: datetime | None = None
) -> Events:
    """The series exactly as a full feed writes it: the master VEVENT with its RRULE and EXDATEs,
    and an override for each occurrence that differs from the rule."""
    await db.flush()
    await db.refresh(series)  # its SEQUENCE may have been bumped in SQL by this operation
    zone = settings.zone
    now = now or utcnow()
    summaries = await _summaries(db, [series.id])
    summary = summaries.get(series.id)
    if summary is None:
        year = series.first_date_local.year
        return Events([], year, year)
    occurrences = await _differing(db, [series.id], now)
    rooms, labels = await _names(db)
    lines = _series_lines(
        series, summary, occurrences, INVITATION, rooms, labels, zone, host, lambda _b: None
    )
    last = _last_instance(series, summary, zone).astimezone(zone).year
    return Events(lines, series.first_date_local.year, last)


def calendar_text(settings: Settings, events: Events, *, method: str, name: str) -> str:
    """A whole VCALENDAR around ``events``, with the feed's VTIMEZONE, as text."""
    zone = settings.zone
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hubkeeper//Room bookings//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        fold(f"X-WR-CALNAME:{escape(name)}"),
        vtimezone(zone.key, events.first_year - 1, events.last_year + 1),
        *events.lines,
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


# --- versions and the bytes built once per version -------------------------------------------------

# Bumped whenever this module changes what it writes for the same data, so that no calendar keeps
# a body from older code under an ETag that still matches.
FORMAT = "5"


@dataclass(frozen=True)
class FeedVersion:
    etag: str
    modified: datetime


async def feed_version(
    db: AsyncSession,
    scope: FeedScope,
    window: Window,
    settings: Settings,
    *,
    hub_name: str | None = None,
    host: str | None = None,
    now: datetime | None = None,
) -> FeedVersion:
    """A strong ETag and Last-Modified, without building the feed: a function of everything the
    body is made from.

    The bookings in scope (nothing is ever deleted and every change bumps ``updated_at``, so their
    count, id total and latest change move whenever they do), which holds in scope have expired by
    ``now`` (a hold is gone the moment it expires, with no write to mark it), every series' latest
    change, every room's name and category's label, the hub's name, the time zone and the scope
    and window (which carry the settings that decide what is shown).
    """
    hub_name = settings.hub_name if hub_name is None else hub_name
    host = uid_domain(hub_name) if host is None else host
    now = now or utcnow()
    start, end = window.bounds(settings.zone)
    expired = hold_expired_at(now)
    conditions: list[Any] = [
        or_(Booking.series_id.is_not(None), (Booking.start_at < end) & (Booking.end_at > start)),
        *_conditions(scope),
    ]
    count, latest, id_total, expired_count, latest_expiry = (
        await db.execute(
            select(
                func.count(),
                func.max(Booking.updated_at),
                func.coalesce(func.sum(Booking.id), 0),
                func.coalesce(func.sum(case((expired, 1), else_=0)), 0),
                func.max(case((expired, Booking.hold_expires_at), else_=None)),
            ).where(*conditions)
        )
    ).one()
    series_count, series_latest = (await db.execute(select(func.count(), func.max(Series.updated_at)))).one()
    rooms, labels = await _names(db)
    stamps = [_aware(s) for s in (latest, series_latest, latest_expiry) if s is not None]
    room_latest = await db.scalar(select(func.max(Room.updated_at)))
    if room_latest is not None:
        stamps.append(_aware(room_latest))
    modified = max(stamps) if stamps else datetime(2000, 1, 1, tzinfo=UTC)
    key = "|".join(
        str(part)
        for part in (
            FORMAT,
            scope,
            window,
            settings.timezone,
            hub_name,
            host,
            count,
            int(id_total),
            _aware(latest).isoformat() if latest is not None else "",
            int(expired_count),
            series_count,
            _aware(series_latest).isoformat() if series_latest is not None else "",
            sorted(rooms.items()),
            sorted(labels.items()),
        )
    )
    return FeedVersion('"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"', modified)


def _aware(value: datetime) -> datetime:
    # func.max over a case() loses the column's type on SQLite: it may come back as text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class BodyCache:
    """Feed bodies by ETag, in this process only, bounded by entries and bytes.

    Safe with several workers: the ETag is computed from the database on every request and is a
    function of everything the body is made from, so an entry is only ever hit by a request that
    would build the same bytes; a changed feed has a new ETag and its old entry simply ages out.
    """

    def __init__(self, entries: int = 32, size: int = 64 * 1024 * 1024) -> None:
        self.entries = entries
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, etag: str) -> bytes | None:
        body = self._bodies.get(etag)
        if body is not None:
            self._bodies.move_to_end(etag)
        return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self.size or etag in self._bodies:
            return
        self._bodies[etag] = body
        self._bytes += len(body)
        while len(self._bodies) > self.entries or self._bytes > self.size:
            _, dropped = self._bodies.popitem(last=False)
            self._bytes -= len(dropped)

    def clear(self) -> None:
        self._bodies.clear()
        self._bytes = 0


bodies = BodyCache()


async def feed_body(
    db: AsyncSession,
    settings: Settings,
    scope: FeedScope,
    window: Window,
    version: FeedVersion,
    *,
    hub_name: str,
    host: str,
    now: datetime,
) -> tuple[bytes, FeedVersion | None]:
    """The body for ``version``: from the bytes built once for it, or built now and kept.

    A body is kept (and sent with an ETag) only when the version read again after building is the
    one read before: nothing changed meanwhile, so the bytes are those of that version. If writes
    keep landing during the build, the body is sent without a version (and not kept).
    """
    for _ in range(3):
        cached = bodies.get(version.etag)
        if cached is not None:
            return cached, version
        body = await build_feed(db, settings, scope, window, hub_name=hub_name, host=host, now=now)
        after = await feed_version(db, scope, window, settings, hub_name=hub_name, host=host, now=now)
        if after.etag == version.etag:
            bodies.put(version.etag, body)
            return body, version
        version = after
    return body, None
