"""msgspec Structs for rooms, rates, quotes, bookings, series and availability."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from hub.errors import PATTERN_REASONS
from hub.models import RateBand
from hub.schemas import (
    Email,
    Id,
    Input,
    LongText,
    Name,
    Phone,
    ShortText,
)
from rooms.models import BookingStatus, VatTreatment, Visibility

Minutes = Annotated[int, Meta(ge=0, le=240)]
Pence = Annotated[int, Meta(ge=0, le=100_000_000)]
Capacity = Annotated[int, Meta(ge=0, le=10_000)]
Attendance = Annotated[int, Meta(ge=0, le=10_000)]
Slug = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Scope = Literal["this", "following", "all"]
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:00)?$"
Clock = Annotated[str, Meta(pattern=CLOCK_PATTERN, description="local time of day, e.g. 14:30")]
PATTERN_REASONS[CLOCK_PATTERN] = "is not a time of day such as 09:30 or 14:00"


def clock(value: str) -> time:
    return time.fromisoformat(value if len(value) > 5 else value + ":00")


# --- rooms --------------------------------------------------------------------------------------


class RoomCreate(Input):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    capacity: Capacity
    location: ShortText = ""
    features: Annotated[list[Slug], Meta(max_length=20)] = msgspec.field(default_factory=list)
    bookable: bool = True
    # Tenants may book it themselves, within opening hours, against their included hours.
    tenant_bookable: bool = False
    setup_minutes: Minutes = 0
    cleardown_minutes: Minutes = 0
    description: LongText = ""
    parts: Annotated[list[Id], Meta(max_length=10)] = msgspec.field(default_factory=list)
    display_order: Annotated[int, Meta(ge=0, le=1000)] = 0


class RoomUpdate(Input):
    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    location: ShortText | UnsetType = UNSET
    features: Annotated[list[Slug], Meta(max_length=20)] | UnsetType = UNSET
    bookable: bool | UnsetType = UNSET
    tenant_bookable: bool | UnsetType = UNSET
    setup_minutes: Minutes | UnsetType = UNSET
    cleardown_minutes: Minutes | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    parts: Annotated[list[Id], Meta(max_length=10)] | UnsetType = UNSET
    display_order: Annotated[int, Meta(ge=0, le=1000)] | UnsetType = UNSET


class RoomOut(Struct):
    id: int
    name: str
    location: str
    capacity: int
    features: list[str]
    bookable: bool
    setup_minutes: int
    cleardown_minutes: int
    description: str
    parts: list[int]
    part_of: list[int]
    active: bool
    tenant_bookable: bool = False


# --- rates and quotes ---------------------------------------------------------------------------


class RateIn(Input):
    room_id: Id
    band: RateBand
    hourly_pence: Pence
    half_day_pence: Pence | None = None
    day_pence: Pence | None = None
    minimum_pence: Pence = 0
    vat_treatment: VatTreatment = VatTreatment.EXEMPT
    vat_rate_bp: Annotated[int, Meta(ge=0, le=10_000)] = 0


class RateOut(Struct):
    id: int
    room_id: int
    band: RateBand
    hourly_pence: int
    half_day_pence: int | None
    day_pence: int | None
    minimum_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int


class QuoteRequest(Input):
    room_id: Id
    start: datetime
    end: datetime
    organisation_id: Id | None = None
    band: RateBand | None = None
    exclude_booking_id: Id | None = None


class Clash(Struct):
    """When a proposed booking collides: the busy time only, never the other booking's details."""

    room_id: int
    room: str
    busy_start: datetime
    busy_end: datetime


class Quote(Struct):
    room_id: int
    band: RateBand
    description: str
    net_pence: int
    vat_rate_bp: int
    vat_pence: int
    gross_pence: int
    clashes: list[Clash]
    within_opening_hours: bool
    opening_hours_problem: str | None
    # Set when the hire is covered by an allowance (a tenant's included hours): the hire is zero
    # and this says why, in words for the booker.
    allowance_note: str | None = None


# --- bookings -----------------------------------------------------------------------------------


class BookingCreate(Input):
    room_id: Id
    organisation_id: Id
    title: Name
    start: datetime
    end: datetime
    category: Slug = "other"
    public_title: ShortText = ""
    contact_name: ShortText = ""
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    expected_attendance: Attendance | None = None
    visibility: Visibility | None = None
    notes: LongText = ""
    status: Literal["provisional", "confirmed"] = "confirmed"
    band: RateBand | None = None
    setup_minutes: Minutes | None = None
    cleardown_minutes: Minutes | None = None
    override_opening_hours: bool = False
    override_reason: ShortText = ""


class BookingUpdate(Input):
    room_id: Id | UnsetType = UNSET
    title: Name | UnsetType = UNSET
    start: datetime | UnsetType = UNSET
    end: datetime | UnsetType = UNSET
    category: Slug | UnsetType = UNSET
    public_title: ShortText | UnsetType = UNSET
    contact_name: ShortText | UnsetType = UNSET
    contact_email: Email | UnsetType | None = UNSET
    contact_phone: Phone | UnsetType | None = UNSET
    expected_attendance: Attendance | UnsetType | None = UNSET
    visibility: Visibility | UnsetType = UNSET
    notes: LongText | UnsetType = UNSET
    setup_minutes: Minutes | UnsetType = UNSET
    cleardown_minutes: Minutes | UnsetType = UNSET
    override_opening_hours: bool = False
    override_reason: ShortText = ""
    # For an occurrence of a series: change this one, this and following ones, or the whole series.
    scope: Scope = "this"


class BookingCancel(Input):
    reason: Annotated[str, Meta(min_length=1, max_length=1000)]
    scope: Scope = "this"
    waive_fee: bool = False


class CheckIn(Input):
    attendance: Attendance


class BookingOut(Struct):
    id: int
    room_id: int
    room: str
    organisation_id: int | None
    organisation: str | None
    title: str
    public_title: str
    category: str
    visibility: Visibility
    status: BookingStatus
    start: datetime
    end: datetime
    start_local: str
    end_local: str
    setup_minutes: int
    cleardown_minutes: int
    series_id: int | None
    is_exception: bool
    private: bool  # True when details are hidden from this viewer
    contact_name: str = ""
    contact_email: str | None = None
    contact_phone: str | None = None
    expected_attendance: int | None = None
    notes: str = ""
    hold_expires_at: datetime | None = None
    rate_band: str | None = None
    price_net_pence: int | None = None
    vat_rate_bp: int | None = None
    vat_pence: int | None = None
    price_description: str = ""
    cancel_reason: str = ""
    cancellation_fee_pence: int | None = None
    checked_in_at: datetime | None = None
    attendance: int | None = None
    no_show: bool = False
    sequence: int = 0


class BookingPage(Struct):
    items: list[BookingOut]
    total: int


# --- series -------------------------------------------------------------------------------------


class RecurrenceRule(Input):
    """RFC 5545 subset, in the building's local time."""

    freq: Literal["weekly", "monthly"]
    interval: Annotated[int, Meta(ge=1, le=12)] = 1
    weekdays: Annotated[list[Annotated[int, Meta(ge=0, le=6)]], Meta(max_length=7)] = msgspec.field(
        default_factory=list
    )
    monthly_by: Literal["date", "nth_weekday"] = "date"
    until: date | None = None
    count: Annotated[int, Meta(ge=1, le=520)] | None = None


class SeriesCreate(Input):
    room_id: Id
    organisation_id: Id
    title: Name
    first_date: date
    start_time: Clock
    end_time: Clock
    rule: RecurrenceRule
    category: Slug = "other"
    public_title: ShortText = ""
    contact_name: ShortText = ""
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    expected_attendance: Attendance | None = None
    visibility: Visibility | None = None
    notes: LongText = ""
    status: Literal["provisional", "confirmed"] = "confirmed"
    band: RateBand | None = None
    # With clashes: refuse (false, the default) or book only the free occurrences (true).
    skip_clashes: bool = False
    override_opening_hours: bool = False
    override_reason: ShortText = ""


class SeriesEnd(Input):
    """End a series after a local date: later occurrences are cancelled, the rule ends there."""

    after: date
    reason: Annotated[str, Meta(min_length=1, max_length=1000)]
    waive_fee: bool = False


class SeriesCancelRest(Input):
    """Cancel every occurrence of a series not yet begun."""

    reason: Annotated[str, Meta(min_length=1, max_length=1000)]
    waive_fee: bool = False


class OccurrenceProblem(Struct):
    start: datetime
    start_local: str
    reason: str
    clashes: list[Clash]


class SeriesOut(Struct):
    id: int
    room_id: int
    organisation_id: int
    title: str
    rule: dict[str, object]
    first_date: date
    start_time: time
    end_time: time
    booked: list[BookingOut]
    skipped: list[OccurrenceProblem]


class SeriesPreview(Struct):
    occurrences: int
    free: list[str]
    problems: list[OccurrenceProblem]


# --- availability -------------------------------------------------------------------------------


class FreeRoom(Struct):
    id: int
    name: str
    capacity: int
    features: list[str]
    location: str


class FreeSlot(Struct):
    start: datetime
    end: datetime
    start_local: str
    end_local: str


class RoomDay(Struct):
    room_id: int
    date: date
    open: bool
    closed_reason: str | None
    free: list[FreeSlot]


# --- opening hours, closures, categories --------------------------------------------------------


class OpeningDay(Struct, forbid_unknown_fields=True):
    weekday: Annotated[int, Meta(ge=0, le=6, description="0 = Monday")]
    opens: Clock
    closes: Clock


class OpeningHoursIn(Input):
    """The whole week at once; a weekday left out is closed."""

    days: Annotated[list[OpeningDay], Meta(max_length=7)]


class OpeningDayOut(Struct):
    weekday: int
    opens: str
    closes: str


class ClosureIn(Input):
    day: date
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class ClosureOut(Struct):
    id: int
    day: date
    reason: str


class CategoryIn(Input):
    slug: Slug
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    default_visibility: Visibility = Visibility.PUBLIC
    active: bool = True


class CategoryOut(Struct):
    slug: str
    label: str
    default_visibility: Visibility
    active: bool
