"""Demo data for the rooms module: the hub's rooms and rates, and a term of bookings.

Everything is made through the same services staff use (``create_room``, ``set_rate``,
``create_series``, ``create_booking``), acting as the system user "demo data". Dates are relative
to the Monday of the current week in the building's time zone, so the demo always looks current.
Series skip bank holidays and closures (``skip_clashes``); one-off events move to a later week if
their day is shut or taken, so seeding never fails whatever day it is run on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import DomainError
from hub.models import RateBand
from rooms.models import VatTreatment, Visibility
from rooms.schemas import BookingCreate, RateIn, RecurrenceRule, RoomCreate, SeriesCreate
from rooms.services import bookings, pricing, rooms, series
from rooms.services.calendar import BuildingCalendar
from rooms.services.localtime import combine_local

TERM_WEEKS = 13
MON, TUE, WED, THU, FRI, SAT = range(6)


# --- rooms and rates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRoom:
    name: str
    capacity: int
    location: str
    features: tuple[str, ...]
    description: str
    # The community-band hourly rate; the other bands are multiples of it (see BAND_FACTORS).
    community_hourly_pence: int
    setup_minutes: int = 0
    cleardown_minutes: int = 0
    parts: tuple[str, ...] = ()
    # Halls are hired by the session as well as by the hour.
    session_rates: bool = False
    # Fitness hire to businesses is not exempt "licence to occupy": the studio opted to tax.
    commercial_vat_bp: int = 0


DEMO_ROOMS: tuple[DemoRoom, ...] = (
    DemoRoom(
        "Hall A",
        60,
        "Ground floor, west wing",
        ("step_free", "hearing_loop"),
        "The stage end of the main hall, behind the folding partition. Stacking chairs for 60, "
        "six trestle tables.",
        1_800,
        session_rates=True,
    ),
    DemoRoom(
        "Hall B",
        60,
        "Ground floor, west wing",
        ("step_free", "hearing_loop"),
        "The kitchen end of the main hall, with a serving hatch through to the community kitchen.",
        1_800,
        session_rates=True,
    ),
    DemoRoom(
        "Main Hall",
        120,
        "Ground floor, west wing",
        ("step_free", "hearing_loop", "projector"),
        "Hall A and Hall B with the partition open: 120 seated, 80 at tables. Ceiling projector and PA.",
        3_200,
        parts=("Hall A", "Hall B"),
        session_rates=True,
    ),
    DemoRoom(
        "Community Kitchen",
        12,
        "Ground floor, west wing",
        ("step_free", "kitchen", "sink"),
        "Commercial-standard kitchen (level 5 food hygiene rating) with a serving hatch to Hall B. "
        "Users need a food hygiene certificate.",
        2_000,
    ),
    DemoRoom(
        "Consulting Room 1",
        3,
        "Ground floor, east wing",
        ("step_free", "clinical_couch", "sink", "private"),
        "Clinical room with an adjustable couch, hand-wash sink and sharps bin. Soundproofed.",
        1_000,
    ),
    DemoRoom(
        "Consulting Room 2",
        4,
        "Ground floor, east wing",
        ("step_free", "clinical_couch", "sink", "private"),
        "Clinical room with soft seating for family sessions. Soundproofed.",
        1_000,
    ),
    DemoRoom(
        "Consulting Room 3",
        3,
        "First floor, east wing",
        ("clinical_couch", "sink", "private"),
        "Clinical room on the first floor (lift access). Soundproofed.",
        1_000,
    ),
    DemoRoom(
        "Meeting Room 1",
        16,
        "First floor, east wing",
        ("step_free", "hearing_loop", "projector"),
        "Boardroom table for 16 with a wall screen. Tables are laid out and cleared by the caretaker, "
        "so allow for 15 minutes either side.",
        1_200,
        setup_minutes=15,
        cleardown_minutes=15,
    ),
    DemoRoom(
        "Meeting Room 2",
        8,
        "First floor, east wing",
        ("step_free", "private"),
        "Small, quiet room for interviews, advice sessions and drop-ins.",
        900,
    ),
    DemoRoom(
        "IT Suite",
        14,
        "First floor, west wing",
        ("step_free", "computers", "projector"),
        "Twelve networked PCs with a tutor station, printer and projector.",
        2_000,
    ),
    DemoRoom(
        "Art Studio",
        20,
        "First floor, north wing",
        ("step_free", "sink"),
        "North-lit studio with large tables, easels, a deep sink and a drying rack.",
        1_500,
    ),
    DemoRoom(
        "Exercise Studio",
        25,
        "Ground floor, north wing",
        ("step_free", "sprung_floor"),
        "Sprung floor, mirrored wall, sound system and mats for 25.",
        1_800,
        commercial_vat_bp=2_000,
    ),
)

# Community groups pay least, tenants little more, public bodies the middle, businesses most.
BAND_FACTORS: dict[RateBand, tuple[int, int]] = {  # numerator / denominator of the community rate
    RateBand.COMMUNITY: (1, 1),
    RateBand.TENANT: (5, 4),
    RateBand.STATUTORY: (2, 1),
    RateBand.COMMERCIAL: (3, 1),
}


def _to_50p(pence: int) -> int:
    return (pence + 25) // 50 * 50


def demo_rates(room: DemoRoom, room_id: int) -> list[RateIn]:
    """A rate for every band: an hourly rate with a one-hour minimum charge; halls add half-day
    (up to 4 hours) and day (up to 8 hours) rates."""
    rates = []
    for band, (numerator, denominator) in BAND_FACTORS.items():
        hourly = _to_50p(room.community_hourly_pence * numerator // denominator)
        taxed = band == RateBand.COMMERCIAL and room.commercial_vat_bp > 0
        rates.append(
            RateIn(
                room_id=room_id,
                band=band,
                hourly_pence=hourly,
                half_day_pence=_to_50p(hourly * 7 // 2) if room.session_rates else None,
                day_pence=hourly * 6 if room.session_rates else None,
                minimum_pence=hourly,
                vat_treatment=VatTreatment.STANDARD if taxed else VatTreatment.EXEMPT,
                vat_rate_bp=room.commercial_vat_bp if taxed else 0,
            )
        )
    return rates


# Rooms tenants may book themselves (issue 13), against their agreements' included hours.
TENANT_ROOMS = frozenset({"Meeting Room 1", "Meeting Room 2"})


async def make_rooms(db: AsyncSession, actor: Identity) -> dict[str, int]:
    """The hub's rooms (parts before the room they make up) and their rates. Ids by name."""
    ids: dict[str, int] = {}
    for position, spec in enumerate(DEMO_ROOMS):
        room = await rooms.create_room(
            db,
            actor,
            RoomCreate(
                name=spec.name,
                capacity=spec.capacity,
                location=spec.location,
                features=list(spec.features),
                setup_minutes=spec.setup_minutes,
                cleardown_minutes=spec.cleardown_minutes,
                description=spec.description,
                parts=[ids[part] for part in spec.parts],
                display_order=position * 10,
                # The meeting rooms down the corridor: tenants book them against their hours.
                tenant_bookable=spec.name in TENANT_ROOMS,
            ),
        )
        ids[spec.name] = room.id
        for rate in demo_rates(spec, room.id):
            await pricing.set_rate(db, actor, rate)
    return ids


# --- a term of bookings -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSeries:
    title: str
    organisation: str
    room: str
    weekdays: tuple[int, ...]
    start: str
    end: str
    category: str
    public_title: str = ""
    attendance: int | None = None
    contact: str = ""
    visibility: Visibility | None = None  # None: the category's default (clinics are private)
    monthly: bool = False  # monthly on the nth weekday of the first occurrence
    notes: str = ""


DEMO_SERIES: tuple[DemoSeries, ...] = (
    DemoSeries(
        "Outpatient clinic (respiratory)",
        "Lancashire Coast NHS Foundation Trust",
        "Consulting Room 1",
        (TUE, THU),
        "09:00",
        "12:30",
        "clinic",
        attendance=3,
        contact="Dr Helen Okafor",
        notes="Patients wait in the east wing lounge; reception checks them in.",
    ),
    DemoSeries(
        "Physiotherapy clinic",
        "Lancashire Coast NHS Foundation Trust",
        "Consulting Room 3",
        (TUE,),
        "13:30",
        "16:30",
        "clinic",
        attendance=2,
        contact="Dr Helen Okafor",
    ),
    DemoSeries(
        "CAMHS family sessions",
        "Fylde Coast CAMHS",
        "Consulting Room 2",
        (WED,),
        "15:30",
        "18:00",
        "therapy",
        attendance=4,
        contact="Tom Whitehead",
    ),
    DemoSeries(
        "Youth club",
        "Coastal Youth Trust",
        "Main Hall",
        (MON, THU),
        "18:00",
        "20:30",
        "youth",
        public_title="Youth club (ages 11–18)",
        attendance=60,
        contact="Dean Walsh",
    ),
    DemoSeries(
        "Food bank — kitchen",
        "Fleetwood Food Bank",
        "Community Kitchen",
        (FRI,),
        "10:00",
        "13:00",
        "food_bank",
        public_title="Food bank",
        attendance=8,
        contact="Priya Nair",
    ),
    DemoSeries(
        "Food bank — distribution and warm space",
        "Fleetwood Food Bank",
        "Hall B",
        (FRI,),
        "10:00",
        "13:00",
        "food_bank",
        public_title="Food bank",
        attendance=50,
        contact="Priya Nair",
    ),
    DemoSeries(
        "Chair-based exercise",
        "Jo Marsh — Chair-Based Exercise",
        "Exercise Studio",
        (TUE,),
        "11:00",
        "12:00",
        "class",
        attendance=18,
        contact="Jo Marsh",
    ),
    DemoSeries(
        "Harbour Art Group painting session",
        "Harbour Art Group",
        "Art Studio",
        (WED,),
        "10:00",
        "12:30",
        "class",
        attendance=14,
        contact="Alan Pike",
    ),
    DemoSeries(
        "Digital Skills Club",
        "Fleetwood Digital Skills Club",
        "IT Suite",
        (MON,),
        "10:00",
        "12:00",
        "training",
        public_title="Digital Skills Club: help with computers, phones and forms",
        attendance=12,
        contact="Naomi Brooks",
    ),
    DemoSeries(
        "Credit union drop-in",
        "Fleetwood Community Credit Union",
        "Meeting Room 2",
        (THU,),
        "10:00",
        "12:00",
        "meeting",
        public_title="Credit union: savings and loans drop-in",
        attendance=4,
        contact="Grace Fielding",
        visibility=Visibility.PUBLIC,
    ),
    DemoSeries(
        "Carers' network meeting",
        "Wyre Carers Network",
        "Meeting Room 1",
        (WED,),
        "13:30",
        "15:30",
        "meeting",
        public_title="Carers' network: tea, talk and advice",
        attendance=12,
        contact="Bernadette Rowe",
        visibility=Visibility.PUBLIC,
        monthly=True,
    ),
)


@dataclass(frozen=True)
class DemoEvent:
    title: str
    organisation: str
    room: str
    week: int  # weeks after the current one
    weekday: int
    start: str
    end: str
    category: str
    public_title: str = ""
    attendance: int | None = None
    contact: str = ""
    provisional: bool = False
    notes: str = ""
    visibility: Visibility | None = None


DEMO_EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent(
        "Neighbourhood policing surgery",
        "Lancashire Police — Fleetwood Neighbourhood Team",
        "Meeting Room 1",
        0,
        FRI,
        "14:00",
        "15:30",
        "meeting",
        attendance=6,
        contact="PCSO Ian Grimshaw",
    ),
    DemoEvent(
        "Community lunch — kitchen",
        "Pharos Kitchen CIC",
        "Community Kitchen",
        0,
        SAT,
        "10:30",
        "14:30",
        "event",
        public_title="Community lunch",
        attendance=6,
        contact="Sue Brennan",
    ),
    DemoEvent(
        "Community lunch",
        "Pharos Kitchen CIC",
        "Hall A",
        0,
        SAT,
        "12:00",
        "14:30",
        "event",
        public_title="Community lunch: pay what you can",
        attendance=55,
        contact="Sue Brennan",
    ),
    DemoEvent(
        "Town centre regeneration consultation",
        "Wyre Council Community Services",
        "Main Hall",
        1,
        WED,
        "14:00",
        "19:00",
        "event",
        public_title="Have your say: Fleetwood town centre plans",
        attendance=100,
        contact="Janet Lowe",
    ),
    DemoEvent(
        "Fitness taster session",
        "Active Coast Fitness Ltd",
        "Exercise Studio",
        1,
        SAT,
        "10:00",
        "11:30",
        "class",
        public_title="Free fitness taster (Active Coast)",
        attendance=20,
        contact="Ryan Cole",
    ),
    DemoEvent(
        "Holiday activity club (to be confirmed)",
        "Coastal Youth Trust",
        "Hall B",
        2,
        MON,
        "10:00",
        "15:00",
        "youth",
        public_title="Holiday activity club",
        attendance=40,
        contact="Dean Walsh",
        provisional=True,
        notes="Waiting for the holiday activities grant decision; held until then.",
    ),
)


def term_start(settings: Settings, today: date | None = None) -> date:
    """The Monday of the current week in the building's time zone."""
    today = today or datetime.now(settings.zone).date()
    return today - timedelta(days=today.weekday())


async def make_series(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    organisations: dict[str, int],
    room_ids: dict[str, int],
    monday: date,
) -> None:
    until = monday + timedelta(weeks=TERM_WEEKS, days=-1)
    for spec in DEMO_SERIES:
        first = monday + timedelta(days=min(spec.weekdays))
        rule = (
            RecurrenceRule(freq="monthly", monthly_by="nth_weekday", until=until)
            if spec.monthly
            else RecurrenceRule(freq="weekly", weekdays=list(spec.weekdays), until=until)
        )
        await series.create_series(
            db,
            settings,
            actor,
            SeriesCreate(
                room_id=room_ids[spec.room],
                organisation_id=organisations[spec.organisation],
                title=spec.title,
                public_title=spec.public_title,
                first_date=first,
                start_time=spec.start,
                end_time=spec.end,
                rule=rule,
                category=spec.category,
                contact_name=spec.contact,
                expected_attendance=spec.attendance,
                visibility=spec.visibility,
                notes=spec.notes,
                # Bank holidays and closures are skipped (and recorded as the series' exceptions).
                skip_clashes=True,
            ),
        )


async def make_events(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    organisations: dict[str, int],
    room_ids: dict[str, int],
    monday: date,
) -> None:
    zone = settings.zone
    calendar = await BuildingCalendar.load(db, settings, monday, monday + timedelta(weeks=TERM_WEEKS + 8))
    for spec in DEMO_EVENTS:
        # A shut or taken day moves the event a week on, so the demo never fails on the calendar.
        for extra_weeks in range(8):
            day = monday + timedelta(weeks=spec.week + extra_weeks, days=spec.weekday)
            if not calendar.day(day).open:
                continue
            data = BookingCreate(
                room_id=room_ids[spec.room],
                organisation_id=organisations[spec.organisation],
                title=spec.title,
                public_title=spec.public_title,
                start=combine_local(day, time.fromisoformat(spec.start), zone).astimezone(zone),
                end=combine_local(day, time.fromisoformat(spec.end), zone).astimezone(zone),
                category=spec.category,
                contact_name=spec.contact,
                expected_attendance=spec.attendance,
                visibility=spec.visibility,
                notes=spec.notes,
                status="provisional" if spec.provisional else "confirmed",
            )
            try:
                await bookings.create_booking(db, settings, actor, data)
            except DomainError:
                await db.rollback()
                continue
            break


async def seed(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """Add the hub's rooms, rates and a term of bookings to a freshly seeded core demo."""
    actor = Identity.system("demo data")
    room_ids = await make_rooms(db, actor)
    monday = term_start(settings)
    await make_series(db, settings, actor, organisations, room_ids, monday)
    await make_events(db, settings, actor, organisations, room_ids, monday)
