"""msgspec Structs for the core's API: what comes in (strict) and what goes out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from hub.db import MAX_ID
from hub.errors import PATTERN_REASONS, FieldError, InvalidInput, MalformedInput, humanise
from hub.models import OrganisationKind, RateBand, Role

# C1 controls and U+FEFF are excluded by name: Python's \s and JSON Schema's (ECMA) \s disagree on
# U+0085 and U+FEFF, and the OpenAPI document must accept exactly what the API does.
EMAIL_PATTERN = (
    r"^[^@\s\x00-\x1f\x7f-\x9f\ufeff]+@[^@\s\x00-\x1f\x7f-\x9f\ufeff]+\.[^@\s\x00-\x1f\x7f-\x9f\ufeff]+$"
)
# England & Wales charities (6-7 digits, optional -N subsidiary), Scotland SC, Northern Ireland NIC/100.
CHARITY_NUMBER_PATTERN = r"^(?:[0-9]{6,7}(?:-[0-9]{1,2})?|SC[0-9]{6}|NIC[0-9]{6}|10[0-9]{4})$"
COMPANY_NUMBER_PATTERN = r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$"
POSTCODE_PATTERN = r"^(?:[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}|)$"
PHONE_PATTERN = r"^\+?[0-9 ()-]{6,20}$"
# Control characters (NUL above all, which PostgreSQL refuses) never belong in text a person typed.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

PATTERN_REASONS.update(
    {
        EMAIL_PATTERN: "is not an email address (e.g. name@example.org)",
        CHARITY_NUMBER_PATTERN: "is not a charity number (e.g. 1170123, or SC012345 in Scotland)",
        COMPANY_NUMBER_PATTERN: "is not a company number (8 characters, e.g. 01234567 or SC123456)",
        POSTCODE_PATTERN: "is not a UK postcode (e.g. FY7 6HP)",
        PHONE_PATTERN: "is not a phone number (digits, spaces and + only)",
        ONE_LINE_PATTERN: "must be one line of text without control characters",
        MULTI_LINE_PATTERN: "must not contain control characters",
    }
)

Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=254, description="An email address")]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=ONE_LINE_PATTERN)]
ShortText = Annotated[str, Meta(max_length=200, pattern=ONE_LINE_PATTERN)]
Town = Annotated[str, Meta(max_length=100, pattern=ONE_LINE_PATTERN)]
LongText = Annotated[str, Meta(max_length=5000, pattern=MULTI_LINE_PATTERN)]
CharityNumber = Annotated[str, Meta(pattern=CHARITY_NUMBER_PATTERN, description="e.g. 1234567 or SC012345")]
CompanyNumber = Annotated[
    str, Meta(pattern=COMPANY_NUMBER_PATTERN, description="8 characters, e.g. 01234567")
]
Postcode = Annotated[str, Meta(pattern=POSTCODE_PATTERN, description="A UK postcode")]
Phone = Annotated[str, Meta(pattern=PHONE_PATTERN)]
Password = Annotated[str, Meta(min_length=10, max_length=200, description="At least 10 characters")]
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Meta(ge=1, le=100_000)]
PerPage = Annotated[int, Meta(ge=1, le=200)]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base for request bodies: unknown fields are refused, not ignored."""


class ContactIn(Input):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    role: ShortText = ""


class OrganisationCreate(Input):
    name: Name
    kind: OrganisationKind
    charity_number: CharityNumber | None = None
    company_number: CompanyNumber | None = None
    address_line1: ShortText = ""
    address_line2: ShortText = ""
    town: Town = ""
    postcode: Postcode = ""
    billing_email: Email | None = None
    contacts: Annotated[list[ContactIn], Meta(max_length=20)] = msgspec.field(default_factory=list)
    default_rate_band: RateBand | None = None
    notes: LongText = ""


class OrganisationUpdate(Input):
    name: Name | UnsetType = UNSET
    kind: OrganisationKind | UnsetType = UNSET
    charity_number: CharityNumber | UnsetType | None = UNSET
    company_number: CompanyNumber | UnsetType | None = UNSET
    address_line1: ShortText | UnsetType = UNSET
    address_line2: ShortText | UnsetType = UNSET
    town: Town | UnsetType = UNSET
    postcode: Postcode | UnsetType = UNSET
    billing_email: Email | UnsetType | None = UNSET
    contacts: Annotated[list[ContactIn], Meta(max_length=20)] | UnsetType = UNSET
    default_rate_band: RateBand | UnsetType = UNSET
    notes: LongText | UnsetType = UNSET


class ArchiveRequest(Input):
    reason: Annotated[str, Meta(min_length=1, max_length=1000, pattern=MULTI_LINE_PATTERN)]


class ContactOut(Struct):
    id: int
    name: str
    email: str | None
    phone: str | None
    role: str


class OrganisationOut(Struct):
    id: int
    name: str
    kind: OrganisationKind
    charity_number: str | None
    company_number: str | None
    address_line1: str
    address_line2: str
    town: str
    postcode: str
    billing_email: str | None
    contacts: list[ContactOut]
    default_rate_band: RateBand
    notes: str
    active: bool
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class OrganisationPage(Struct):
    items: list[OrganisationOut]
    total: int
    page: int
    per_page: int


class UserCreate(Input):
    email: Email
    name: Name
    role: Role
    password: Password
    organisation_id: Id | None = None


class UserUpdate(Input):
    name: Name | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    organisation_id: Id | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class PasswordReset(Input):
    password: Password


class UserOut(Struct):
    id: int
    email: str
    name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UserPage(Struct):
    items: list[UserOut]
    total: int
    page: int
    per_page: int


class TokenCreate(Input):
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE_PATTERN)]
    user_id: Id | None = None  # admins may issue a token for another account


class TokenOut(Struct):
    id: int
    name: str
    prefix: str
    user_id: int
    user_email: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(Struct):
    token: str  # shown once; only its hash is kept
    details: TokenOut


class AuditEntryOut(Struct):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    changes: dict[str, Any]
    reason: str


class AuditPage(Struct):
    items: list[AuditEntryOut]
    total: int
    page: int
    per_page: int


class Me(Struct):
    id: int | None
    email: str
    name: str
    role: Role
    organisation_id: int | None
    via: str


class Health(Struct):
    status: str
    database: str
    version: str


T = TypeVar("T")


# The span of dates the API reasons about; far-off dates (year 1, year 9999) would overflow once
# days, buffers and time zones are added, so they are refused as a rule (422), not left to fail.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def within_calendar(day: date, field: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"must be between {FIRST_DAY} and {LAST_DAY}", field=field)
    return day


def _one_error(exc: msgspec.ValidationError) -> FieldError:
    message = str(exc)
    field = "body"
    if " - at `$" in message:
        message, _, path = message.rpartition(" - at `$")
        field = path.rstrip("`").lstrip(".") or "body"
    if message.startswith("Object missing required field `"):
        name = message.split("`")[1]
        field = name if field == "body" else f"{field}.{name}"
        message = "is required"
    return FieldError(field=field, reason=humanise(message))


def convert_input(data: Any, type_: type[T]) -> T:
    """Validate plain data (from an HTML form or the CLI) the same way the API does.

    msgspec stops at the first error; a person filling a form wants to hear about every field at
    once, so each failing top-level field is set aside and the rest checked again.
    """
    remaining = dict(data) if isinstance(data, dict) else data
    errors: list[FieldError] = []
    for _ in range(50):
        try:
            result = msgspec.convert(remaining, type_, strict=False)
        except msgspec.ValidationError as exc:
            error = _one_error(exc)
            errors.append(error)
            top = error.field.split(".")[0].split("[")[0]
            if not isinstance(remaining, dict) or top not in remaining:
                break  # a missing required field: nothing more can be checked without it
            remaining = {k: v for k, v in remaining.items() if k != top}
            continue
        if not errors:
            return result
        break
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
    raise MalformedInput(detail, errors=errors)
