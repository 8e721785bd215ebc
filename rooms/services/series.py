"""Series: recurring bookings in local wall-clock time, their clashes, and edits by scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from hub.modules import Registry
from hub.queries import get_or_404
from hub.services import audit
from rooms import mail as rooms_mail
from rooms.models import LIVE_STATUSES, Booking, BookingStatus, Series
from rooms.schemas import (
    BookingUpdate,
    Clash,
    OccurrenceProblem,
    RecurrenceRule,
    SeriesCreate,
    SeriesPreview,
    clock,
)
from rooms.services.calendar import BuildingCalendar
from rooms.services.charges import post_booking_charges
from rooms.services.localtime import combine_local
from rooms.services.occurrences import (
    apply_changes,
    apply_price,
    busy_span,
    cancel_bookings,
    check_opening_hours,
    check_parts,
    find_clashes,
    flush_or_conflict,
    occupy,
    sweep_expired_holds,
)
from rooms.services.pricing import hire_price
from rooms.services.rooms import RoomMap

MAX_OCCURRENCES = 520
HORIZON_DAYS = 3 * 366


def rule_dates(first: date, rule: RecurrenceRule) -> list[date]:
    """Local dates of the occurrences. Weekly on chosen weekdays (default: the first date's),
    every N weeks; monthly on the same date or the same nth weekday ("second Tuesday"; a fifth
    weekday means "last"). Ends at ``until`` (inclusive) or after ``count``."""
    if rule.until is None and rule.count is None:
        raise InvalidInput("give an end date (until) or a number of occurrences (count)", field="rule.until")
    if rule.until is not None and rule.count is not None:
        raise InvalidInput("give until or count, not both", field="rule.count")
    if rule.until is not None and rule.until > first + timedelta(days=HORIZON_DAYS):
        raise InvalidInput(f"a series may run for at most {HORIZON_DAYS // 366} years", field="rule.until")
    if rule.until is not None and rule.until < first:
        raise InvalidInput("must not be before the first date", field="rule.until")
    horizon = first + timedelta(days=HORIZON_DAYS)
    until = min(rule.until, horizon) if rule.until else horizon
    start = datetime.combine(first, datetime.min.time())
    kwargs: dict[str, Any] = {"dtstart": start, "interval": rule.interval}
    if rule.count is not None:
        kwargs["count"] = rule.count
    else:
        kwargs["until"] = datetime.combine(until, datetime.min.time())
    if rule.freq == "weekly":
        days = sorted(set(rule.weekdays)) or [first.weekday()]
        if first.weekday() not in days:
            raise InvalidInput("the first date must fall on one of the chosen weekdays", field="first_date")
        dates = [d.date() for d in rrule(WEEKLY, byweekday=days, wkst=0, **kwargs)]
    else:
        if rule.weekdays:
            raise InvalidInput(
                "weekdays are for weekly series; monthly ones follow the first date", field="rule.weekdays"
            )
        if rule.monthly_by == "date":
            if first.day > 28:
                raise InvalidInput(
                    "monthly by date needs a day of the month up to 28; use nth weekday", field="first_date"
                )
            dates = [d.date() for d in rrule(MONTHLY, bymonthday=first.day, **kwargs)]
        else:
            nth = (first.day - 1) // 7 + 1
            nth = -1 if nth == 5 else nth
            dates = [d.date() for d in rrule(MONTHLY, byweekday=weekday(first.weekday(), nth), **kwargs)]
    if dates and dates[-1] > horizon:
        raise InvalidInput(f"a series may run for at most {HORIZON_DAYS // 366} years", field="rule.count")
    if len(dates) > MAX_OCCURRENCES:
        raise InvalidInput(f"a series has at most {MAX_OCCURRENCES} occurrences", field="rule.count")
    return dates


def rule_dict(rule: RecurrenceRule, first: date) -> dict[str, Any]:
    """The rule as stored: weekly series always name their weekdays (by default the first date's)."""
    weekdays = sorted(set(rule.weekdays)) or ([first.weekday()] if rule.freq == "weekly" else [])
    return {"freq": rule.freq, "interval": rule.interval, "weekdays": weekdays, "monthly_by": rule.monthly_by}


@dataclass
class Planned:
    day: date
    start: datetime | None
    end: datetime | None
    local_label: str
    problem: str | None
    clashes: list[Clash]
    # Booked anyway but worth a second look: a closure or bank holiday overridden by staff.
    warning: str | None = None


async def plan(db: AsyncSession, settings: Settings, actor: Identity, data: SeriesCreate) -> list[Planned]:
    """Every occurrence with its problem (impossible local time, closed, clash), writing nothing."""
    zone = settings.zone
    if clock(data.end_time) <= clock(data.start_time):
        raise InvalidInput("must be after the start time", field="end_time")
    dates = rule_dates(data.first_date, data.rule)
    calendar = await BuildingCalendar.load(db, settings, dates[0], dates[-1])
    room_map = await RoomMap.load(db)
    room = room_map.rooms.get(data.room_id)
    if room is None:
        raise InvalidInput(f"no room has id {data.room_id}", field="room_id")
    planned: list[Planned] = []
    for day in dates:
        label = f"{day:%a %d %b %Y} {clock(data.start_time):%H:%M}"
        try:
            start = combine_local(day, clock(data.start_time), zone, field="start_time")
            end = combine_local(day, clock(data.end_time), zone, field="end_time")
        except DomainError as exc:
            planned.append(Planned(day, None, None, label, exc.detail, []))
            continue
        problem = None
        warning = None
        closed = calendar.day(day)
        try:
            overridden = await check_opening_hours(
                db,
                settings,
                actor,
                start,
                end,
                override=data.override_opening_hours,
                reason=data.override_reason,
                calendar=calendar,
            )
            if overridden and not closed.open:
                warning = f"booked although the building is closed ({closed.closed_reason})"
        except DomainError as exc:
            problem = exc.detail
        busy_start, busy_end = busy_span(start, end, room.setup_minutes, room.cleardown_minutes)
        clashes = await find_clashes(db, room_map, room.id, busy_start, busy_end)
        if clashes and problem is None:
            problem = "clashes with another booking"
        planned.append(Planned(day, start, end, label, problem, clashes, warning))
    return planned


def problems_of(planned: list[Planned], settings: Settings) -> list[OccurrenceProblem]:
    return [
        OccurrenceProblem(
            start=p.start or datetime.min.replace(tzinfo=settings.zone),
            start_local=p.local_label,
            reason=p.problem,
            clashes=p.clashes,
        )
        for p in planned
        if p.problem
    ]


async def preview(db: AsyncSession, settings: Settings, actor: Identity, data: SeriesCreate) -> SeriesPreview:
    """Every occurrence and its problems, after the same checks as booking the series (room,
    organisation, category, attendance); for the API's preview and the form's check. Writes
    nothing."""
    found, _warnings = await check(db, settings, actor, data)
    return found


async def check(
    db: AsyncSession, settings: Settings, actor: Identity, data: SeriesCreate
) -> tuple[SeriesPreview, list[tuple[str, str]]]:
    """The preview, and the occurrences that would be booked on a day the building is closed
    (a closure or bank holiday) because staff override opening hours: the form warns about
    them before booking. Writes nothing."""
    await check_parts(
        db,
        actor,
        room_id=data.room_id,
        organisation_id=data.organisation_id,
        category=data.category,
        visibility=data.visibility,
        band=data.band,
        expected_attendance=data.expected_attendance,
    )
    planned = await plan(db, settings, actor, data)
    found = SeriesPreview(
        occurrences=len(planned),
        free=[p.local_label for p in planned if not p.problem],
        problems=problems_of(planned, settings),
    )
    return found, [(p.local_label, p.warning) for p in planned if p.problem is None and p.warning]


async def create_series(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    data: SeriesCreate,
    *,
    registry: Registry | None = None,
) -> tuple[Series, list[Booking], list[OccurrenceProblem]]:
    """Books every free occurrence. With problems, refuses (409 listing each) unless told to skip
    them, in which case the skipped ones are recorded on the series (its exception dates)."""
    parts = await check_parts(
        db,
        actor,
        room_id=data.room_id,
        organisation_id=data.organisation_id,
        category=data.category,
        visibility=data.visibility,
        band=data.band,
        expected_attendance=data.expected_attendance,
    )
    await sweep_expired_holds(db)
    planned = await plan(db, settings, actor, data)
    problems = problems_of(planned, settings)
    if problems and not data.skip_clashes:
        raise Conflict(
            f"{len(problems)} of {len(planned)} occurrences cannot be booked; "
            "book the rest with skip_clashes, or change the time or room.",
            field="rule",
            extra={
                "problems": [
                    {
                        "start_local": p.start_local,
                        "reason": p.reason,
                        "clashes": [
                            {
                                "room": c.room,
                                "busy_start": c.busy_start.isoformat(),
                                "busy_end": c.busy_end.isoformat(),
                            }
                            for c in p.clashes
                        ],
                    }
                    for p in problems
                ]
            },
        )
    free = [p for p in planned if p.problem is None and p.start is not None and p.end is not None]
    if not free:
        raise RuleViolation("none of the occurrences can be booked", field="rule")
    now = utcnow()
    template = {
        "title": data.title.strip(),
        "public_title": data.public_title.strip(),
        "category": parts.category.slug,
        "contact_name": data.contact_name.strip(),
        "contact_email": data.contact_email,
        "contact_phone": data.contact_phone,
        "expected_attendance": data.expected_attendance,
        "visibility": parts.visibility,
        "notes": data.notes,
        "band": parts.band.value,
        "end_time": clock(data.end_time).isoformat(),
        # Why each date the rule gives was not booked, for the series page (keyed as ``skipped``).
        "skipped_reasons": {
            (p.start or datetime.combine(p.day, clock(data.start_time), tzinfo=settings.zone))
            .astimezone(UTC)
            .isoformat(): p.problem
            for p in planned
            if p.problem is not None
        },
    }
    series = Series(
        room_id=parts.room.id,
        organisation_id=parts.organisation.id,
        rule=rule_dict(data.rule, data.first_date),
        first_date_local=data.first_date,
        start_time_local=clock(data.start_time),
        duration_minutes=int((free[0].end - free[0].start).total_seconds() // 60),  # type: ignore[operator]
        until_local=data.rule.until,
        count=data.rule.count,
        template=template,
        # Every date the rule gives that was not booked, even one whose time the clocks skip
        # (kept as the instant just before the gap): the feed lists them all as EXDATEs.
        skipped=[
            (p.start or datetime.combine(p.day, clock(data.start_time), tzinfo=settings.zone))
            .astimezone(UTC)
            .isoformat()
            for p in planned
            if p.problem is not None
        ],
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        sequence=0,
    )
    db.add(series)
    await db.flush()
    room_map = await RoomMap.load(db)
    bookings: list[Booking] = []
    checks = []
    for occurrence in free:
        assert occurrence.start is not None and occurrence.end is not None
        booking = Booking(
            room_id=parts.room.id,
            series_id=series.id,
            series_original_start=occurrence.start,
            is_exception=False,
            organisation_id=parts.organisation.id,
            contact_name=template["contact_name"],
            contact_email=data.contact_email,
            contact_phone=data.contact_phone,
            title=template["title"],
            public_title=template["public_title"],
            category=parts.category.slug,
            expected_attendance=data.expected_attendance,
            visibility=parts.visibility,
            notes=data.notes,
            status=data.status,
            hold_expires_at=now + timedelta(hours=settings.hold_hours)
            if data.status == "provisional"
            else None,
            start_at=occurrence.start,
            end_at=occurrence.end,
            setup_minutes=parts.room.setup_minutes,
            cleardown_minutes=parts.room.cleardown_minutes,
            outside_hours_override=False,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
            sequence=0,
            no_show=False,
            cancellation_fee_pence=0,
            cancel_reason="",
        )
        # Each occurrence is priced as a booking is: an allowance may cover it (hire_price); those
        # already added count against it (the session flushes them before the allowance reads).
        price = await hire_price(
            db, registry, parts.room, parts.band, parts.organisation.id, occurrence.start, occurrence.end
        )
        apply_price(booking, price)
        db.add(booking)
        bookings.append(booking)
    await db.flush()
    for booking in bookings:
        occupy(db, booking, room_map)
        checks.append(
            (
                booking.room_id,
                *busy_span(
                    booking.start_at, booking.end_at, booking.setup_minutes, booking.cleardown_minutes
                ),
            )
        )
    await flush_or_conflict(db, settings, checks)
    audit.record(
        db,
        actor,
        "series.created",
        "series",
        series.id,
        summary=f"{template['title']}: {len(bookings)} bookings in {parts.room.name}"
        + (f", {len(problems)} skipped" if problems else ""),
        changes={
            "rule": [None, series.rule],
            "first_date": [None, data.first_date],
            "booked": [None, len(bookings)],
            "skipped": [None, [p.start_local for p in problems]],
        },
    )
    await post_booking_charges(db, settings, actor, bookings, "Series booked")
    # One message for the whole series (a run of holds waits until its occurrences are confirmed).
    await rooms_mail.series_message(db, settings, actor, series, "series_created", bookings)
    await db.commit()
    return series, bookings, problems


async def get_series(db: AsyncSession, series_id: int) -> Series:
    return await get_or_404(db, Series, series_id, "That series")


async def series_bookings(db: AsyncSession, series_id: int) -> list[Booking]:
    return list(
        await db.scalars(
            select(Booking)
            .where(Booking.series_id == series_id)
            .order_by(Booking.series_original_start, Booking.id)
        )
    )


async def occurrences_in_scope(db: AsyncSession, booking: Booking, scope: str) -> list[Booking]:
    """``following``: this and later occurrences; ``all``: every occurrence not yet over.
    Past occurrences are history and are never rewritten."""
    assert booking.series_id is not None
    now = utcnow()
    anchor = booking.series_original_start or booking.start_at
    chosen = []
    for other in await series_bookings(db, booking.series_id):
        original = other.series_original_start or other.start_at
        if (
            other.id == booking.id
            or (scope == "following" and original >= anchor)
            or (scope == "all" and other.end_at > now)
        ):
            chosen.append(other)
    return chosen


async def update_scope(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    booking: Booking,
    data: BookingUpdate,
    new_start: datetime | None,
    new_end: datetime | None,
    *,
    registry: Registry | None = None,
) -> None:
    """Change this and following, or the whole series. Occurrences edited one by one before keep
    their own changes (they are exceptions); cancelled ones stay cancelled."""
    assert booking.series_id is not None
    series = await get_series(db, booking.series_id)
    scope = await occurrences_in_scope(db, booking, data.scope)
    targets = [b for b in scope if b.status in LIVE_STATUSES and (b.id == booking.id or not b.is_exception)]
    await apply_changes(
        db,
        settings,
        actor,
        targets,
        data,
        new_start=new_start,
        new_end=new_end,
        mark_exceptions=False,
        anchor=booking,
        registry=registry,
    )
    if data.scope == "all" or (
        data.scope == "following"
        and booking.series_original_start is not None
        and booking.start_at.astimezone(settings.zone).date() <= series.first_date_local
    ):
        # The rule itself changes: later feeds emit the new times and room for the whole series.
        zone = settings.zone
        if new_start is not None and new_end is not None:
            series.start_time_local = new_start.astimezone(zone).time()
            series.duration_minutes = int((new_end - new_start).total_seconds() // 60)
            series.template = {**series.template, "end_time": new_end.astimezone(zone).time().isoformat()}
        if data.room_id is not UNSET:
            series.room_id = data.room_id
        series.updated_at = utcnow()
        # Occurrences already over keep their old times: they now differ from the rule.
        for other in await series_bookings(db, series.id):
            if other not in targets and other.end_at <= utcnow():
                other.is_exception = True
    else:
        for target in targets:
            target.is_exception = True
    audit.record(
        db,
        actor,
        "series.updated",
        "series",
        series.id,
        summary=f"Changed {len(targets)} occurrence(s) ({data.scope})",
        changes={"scope": [None, data.scope]},
    )


@dataclass
class Ended:
    """What ending a series (or cancelling the rest) did: the occurrences it cancelled and the
    late-cancellation fees they carry, in pence."""

    series: Series
    cancelled: list[Booking]
    fees_pence: int


async def _series_for_change(db: AsyncSession, series_id: int) -> Series:
    # The row lock serialises two receptionists ending the same series (one charge, one audit).
    found = await db.scalar(select(Series).where(Series.id == series_id).with_for_update())
    if found is None:
        raise NotFound("That series was not found.")
    return found


async def end_series(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    series_id: int,
    *,
    after: date | None,
    reason: str,
    waive_fee: bool,
) -> Ended:
    """End a series after a local date (``after``), or cancel the rest (``after`` None): every
    occurrence not yet begun that falls after that date (or whose place in the rule does) is
    cancelled, never deleted, with a late-cancellation fee as for a single booking unless staff
    waive it. Ending after a date moves the rule's end there, so feeds stop repeating it. Past
    occurrences are history and are never touched."""
    if not reason.strip():
        raise InvalidInput("say why the series ends", field="reason")
    if waive_fee and actor.role not in STAFF:
        raise RuleViolation("only staff can waive a cancellation fee", field="waive_fee")
    series = await _series_for_change(db, series_id)
    actor.require_organisation(series.organisation_id, "That series")
    zone = settings.zone
    now = utcnow()
    today = now.astimezone(zone).date()
    if after is not None:
        if after < today:
            raise InvalidInput(
                f"must be today ({today:%d %b %Y}) or later: past occurrences are history", field="after"
            )
        if after < series.first_date_local:
            raise InvalidInput(
                f"the series starts on {series.first_date_local:%d %b %Y}; to end it before then, "
                "cancel the rest",
                field="after",
            )
    await sweep_expired_holds(db, now, where=Booking.series_id == series.id)
    occurrences = await series_bookings(db, series.id)

    def falls_after(booking: Booking) -> bool:
        if after is None:
            return True
        original = (booking.series_original_start or booking.start_at).astimezone(zone).date()
        return original > after or booking.start_at.astimezone(zone).date() > after

    targets = [b for b in occurrences if b.status in LIVE_STATUSES and b.start_at > now and falls_after(b)]
    if not targets:
        if after is None:
            raise Conflict("no occurrence of this series is left to cancel", field="series")
        raise RuleViolation(
            f"no booked occurrence falls after {after:%d %b %Y}; the series already ends by then",
            field="after",
        )
    before = {"until": series.until_local, "count": series.count}
    invited = [b for b in targets if b.status == BookingStatus.CONFIRMED.value]
    await cancel_bookings(db, settings, actor, targets, reason.strip(), waive_fee=waive_fee)
    await rooms_mail.cancelled_message(db, settings, actor, invited, reason.strip())
    if after is not None:
        series.until_local = after
        series.count = None
    series.updated_at = now
    fees = sum(b.cancellation_fee_pence for b in targets)
    audit.record(
        db,
        actor,
        "series.ended" if after is not None else "series.rest_cancelled",
        "series",
        series.id,
        summary=(
            f"Ended {series.template.get('title', 'series')} after {after:%d %b %Y}"
            if after is not None
            else f"Cancelled the rest of {series.template.get('title', 'series')}"
        )
        + f": {len(targets)} occurrence(s) cancelled",
        changes={
            **(
                audit.diff(before, {"until": series.until_local, "count": series.count})
                if after is not None
                else {}
            ),
            "cancelled": [None, len(targets)],
            "cancellation_fees_pence": [None, fees],
        },
        reason=reason.strip(),
    )
    await db.commit()
    return Ended(series=series, cancelled=targets, fees_pence=fees)
