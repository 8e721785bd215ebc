"""msgspec Structs for the tenants API: units, agreements, their breaks and reviews, alerts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from hub.schemas import Id, Input, LongText, ShortText
from tenants.models import AgreementKind, AgreementStatus, Frequency, UnitKind, UnitStatus

UnitName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]
Floor = Annotated[str, Meta(max_length=50, pattern=r"^[^\x00-\x1f\x7f]*$")]
Feature = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")]
Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
# Up to a billion pounds a year: far beyond any hub, well inside a BIGINT.
Pence = Annotated[int, Meta(le=100_000_000_000)]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000)]
NoticeDays = Annotated[int, Meta(ge=0, le=3_650)]
NoticeMonths = Annotated[int, Meta(ge=0, le=120)]
# A month has at most 31 × 24 × 60 minutes.
MinutesPerMonth = Annotated[int, Meta(ge=0, le=44_640)]


# Square metres, as a number or a string ("18.5"); at most two decimal places (the service checks
# the range). The pattern tells API clients a string must be a number.
Area = Annotated[
    Decimal,
    Meta(
        description="floor area in square metres, e.g. 18.5",
        extra_json_schema={"pattern": r"^[0-9]{1,6}(\.[0-9]{1,2})?$"},
    ),
]


class UnitCreate(Input):
    name: UnitName
    kind: UnitKind
    area_m2: Area
    floor: Floor = ""
    features: Annotated[list[Feature], Meta(max_length=30)] = msgspec.field(default_factory=list)
    out_of_use: bool = False
    notes: LongText = ""


class UnitUpdate(Input):
    name: UnitName | UnsetType = UNSET
    kind: UnitKind | UnsetType = UNSET
    area_m2: Area | UnsetType = UNSET
    floor: Floor | UnsetType = UNSET
    features: Annotated[list[Feature], Meta(max_length=30)] | UnsetType = UNSET
    out_of_use: bool | UnsetType = UNSET
    notes: LongText | UnsetType = UNSET


class UnitOut(Struct):
    id: int
    name: str
    kind: UnitKind
    floor: str
    area_m2: Decimal
    features: list[str]
    out_of_use: bool
    status: UnitStatus
    # The live agreement holding it on the day asked about (None: not let).
    agreement_id: int | None
    organisation_id: int | None
    organisation_name: str | None
    notes: str
    created_at: datetime
    updated_at: datetime


class BreakIn(Input):
    break_date: date
    notice_days: NoticeDays = 0


class ReviewIn(Input):
    """A fixed uplift (``uplift_bp``: the new rent is worked out now) or an index to apply by hand
    (``index_name``; its ``new_rent_pence_per_year`` may be given once known)."""

    review_date: date
    uplift_bp: BasisPoints | None = None
    index_name: ShortText | None = None
    new_rent_pence_per_year: Pence | None = None


class AgreementCreate(Input):
    organisation_id: Id
    kind: AgreementKind
    unit_ids: Annotated[list[Id], Meta(min_length=1, max_length=50)]
    start_date: date
    rent_pence_per_year: Pence
    frequency: Frequency
    end_date: date | None = None
    notice_months: NoticeMonths | None = None
    service_charge_pence_per_year: Pence = 0
    rent_free_start: date | None = None
    rent_free_end: date | None = None
    discount_bp: BasisPoints = 0
    discount_reason: ShortText | None = None
    deposit_pence: Pence = 0
    permitted_use: LongText = ""
    insurance_expires_on: date | None = None
    included_minutes_per_month: MinutesPerMonth = 0
    breaks: Annotated[list[BreakIn], Meta(max_length=20)] = msgspec.field(default_factory=list)
    reviews: Annotated[list[ReviewIn], Meta(max_length=20)] = msgspec.field(default_factory=list)


class AgreementUpdate(Input):
    kind: AgreementKind | UnsetType = UNSET
    unit_ids: Annotated[list[Id], Meta(min_length=1, max_length=50)] | UnsetType = UNSET
    start_date: date | UnsetType = UNSET
    end_date: date | UnsetType | None = UNSET
    notice_months: NoticeMonths | UnsetType | None = UNSET
    rent_pence_per_year: Pence | UnsetType = UNSET
    service_charge_pence_per_year: Pence | UnsetType = UNSET
    frequency: Frequency | UnsetType = UNSET
    rent_free_start: date | UnsetType | None = UNSET
    rent_free_end: date | UnsetType | None = UNSET
    discount_bp: BasisPoints | UnsetType = UNSET
    discount_reason: ShortText | UnsetType | None = UNSET
    deposit_pence: Pence | UnsetType = UNSET
    permitted_use: LongText | UnsetType = UNSET
    insurance_expires_on: date | UnsetType | None = UNSET
    included_minutes_per_month: MinutesPerMonth | UnsetType = UNSET
    reason: Annotated[str, Meta(max_length=1000)] = ""


class NoticeIn(Input):
    """Notice given on ``given_on``; the agreement ends on ``end_date`` (for a rolling agreement,
    by default ``notice_months`` after the notice; for a fixed term, its end date or a break)."""

    given_on: date
    end_date: date | None = None
    reason: Annotated[str, Meta(max_length=1000)] = ""


class EndIn(Input):
    ended_on: date
    reason: Reason


class RenewIn(Input):
    """A new (draft) agreement for the same tenant and units, from the day after the old one ends."""

    end_date: date | None = None
    rent_pence_per_year: Pence | None = None
    notice_months: NoticeMonths | None = None


class UnitBrief(Struct):
    id: int
    name: str
    kind: UnitKind
    floor: str
    area_m2: Decimal


class BreakOut(Struct):
    id: int
    break_date: date
    notice_days: int
    last_notice_day: date


class ReviewOut(Struct):
    id: int
    review_date: date
    uplift_bp: int | None
    index_name: str | None
    new_rent_pence_per_year: int | None


class DocumentOut(Struct):
    filename: str
    size: int
    uploaded_at: datetime
    url: str


class AgreementOut(Struct):
    id: int
    reference: str
    organisation_id: int
    organisation_name: str
    kind: AgreementKind
    status: AgreementStatus
    units: list[UnitBrief]
    start_date: date
    end_date: date | None
    notice_months: int | None
    rent_pence_per_year: int
    rent_in_force_pence_per_year: int
    service_charge_pence_per_year: int
    frequency: Frequency
    rent_free_start: date | None
    rent_free_end: date | None
    discount_bp: int
    discount_reason: str | None
    deposit_pence: int
    deposit_received_on: date | None
    deposit_returned_on: date | None
    deposit_kept_pence: int
    deposit_kept_on: date | None
    deposit_note: str | None
    permitted_use: str
    insurance_expires_on: date | None
    included_minutes_per_month: int
    vat_rate_bp: int
    notice_given_on: date | None
    ended_on: date | None
    end_reason: str | None
    renewal_of_id: int | None
    breaks: list[BreakOut]
    reviews: list[ReviewOut]
    document: DocumentOut | None
    created_at: datetime
    updated_at: datetime


AlertKind = Literal["end", "break", "rent_review", "insurance", "arrears"]


class AlertOut(Struct):
    kind: AlertKind
    due_on: date
    agreement_id: int
    reference: str
    organisation_id: int
    organisation_name: str
    text: str
