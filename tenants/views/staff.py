"""The tenancies pages for the hub's office: agreements, units and the alerts (issue 13).

Admins change things; receptionists and trustees read (no form is shown them, and every POST
refuses them with 403). Thin like every view: a handler reads a form, calls a service in
``tenants.services`` and renders or redirects; a service's errors come back beside the field
that caused them, with nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import ADMIN_ONLY, STAFF, Identity, roles
from hub.billing.schemas import ChargeOut
from hub.billing.services import charges
from hub.config import Settings
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError, InvalidInput
from hub.forms import Problems, parse_day, parse_id, pounds_input, renamed
from hub.models import Role
from hub.money import format_pence
from hub.schemas import convert_input
from hub.services import audit, organisations
from hub.web import NavItem, read_form, redirect, render
from tenants.models import AgreementKind, AgreementStatus, Frequency, UnitKind, UnitStatus
from tenants.schemas import (
    AgreementCreate,
    AgreementOut,
    AgreementUpdate,
    BreakIn,
    RenewIn,
    ReviewIn,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from tenants.services import agreements as agreement_service
from tenants.services import billing
from tenants.services import units as unit_service

READERS = roles(STAFF, Role.TRUSTEE)
WRITERS = roles(ADMIN_ONLY)
# The signed document is served "only to staff and that tenant" (issue 13): not to trustees.
DOCUMENT_READERS = roles(STAFF)

NAV = [NavItem("Tenancies", "/tenancies", frozenset(STAFF | {Role.TRUSTEE}), order=25)]

STATUS_LABELS = {
    AgreementStatus.DRAFT.value: "Draft",
    AgreementStatus.ACTIVE.value: "Active",
    AgreementStatus.NOTICE_GIVEN.value: "Notice given",
    AgreementStatus.ENDED.value: "Ended",
}
KIND_LABELS = {AgreementKind.LICENCE.value: "Licence", AgreementKind.LEASE.value: "Lease"}
FREQUENCY_LABELS = {
    Frequency.MONTHLY.value: "Monthly on the 1st",
    Frequency.QUARTERLY.value: "Quarterly on the quarter days",
}
UNIT_KIND_LABELS = {
    UnitKind.OFFICE.value: "Office",
    UnitKind.DESK.value: "Desk",
    UnitKind.STORAGE.value: "Storage",
}
UNIT_STATUS_LABELS = {
    UnitStatus.AVAILABLE.value: "Available",
    UnitStatus.LET.value: "Let",
    UnitStatus.UNAVAILABLE.value: "Out of use",
}
ALERT_KIND_LABELS = {
    "end": "Ends",
    "agreement_end": "Ends",
    "break": "Break",
    "break_notice": "Break",
    "review": "Rent review",
    "rent_review": "Rent review",
    "insurance": "Insurance",
    "insurance_expiry": "Insurance",
    "arrears": "Arrears",
}
DEPOSIT_METHODS = [("bank", "Bank transfer"), ("cash", "Cash")]
DEPOSIT_ACTIONS = [
    ("received", "Received from the tenant"),
    ("returned", "Returned to the tenant"),
    ("kept", "Kept (some or all)"),
]
STATUS_FILTERS = [
    ("current", "Current (draft, active or notice given)"),
    ("", "All"),
    *((status.value, STATUS_LABELS[status.value]) for status in AgreementStatus),
]
MAX_PERCENT_BP = 10_000
MAX_HOURS = 744  # every hour of a 31-day month
MAX_NOTICE_DAYS = 3_660
MAX_NOTICE_MONTHS = 120
MAX_AREA = Decimal("9999999.99")
# A route's own body limit: an upload larger than the setting is refused by the service with a
# message beside the field; only absurd bodies are cut off before that.
UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


# --- how things are written on the page ----------------------------------------------------------


def day(value: date | None) -> str:
    """1 Oct 2026."""
    return f"{value.day} {value:%b %Y}" if value else ""


def area(value: Decimal | None) -> str:
    if value is None:
        return "Not recorded"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} m²"


def percent(bp: int | None) -> str:
    return f"{(bp or 0) / 100:g}%"


def after_discount(pence: int, discount_bp: int) -> int:
    """A yearly amount less a discount in basis points, rounded half-up to the penny."""
    return (pence * (10_000 - discount_bp) * 2 + 10_000) // 20_000


def hours(minutes: int | None) -> str:
    value = (minutes or 0) / 60
    return f"{value:g} hour{'' if value == 1 else 's'}"


def file_size(size: int | None) -> str:
    size = size or 0
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def term(agreement: AgreementOut) -> str:
    start = day(agreement.start_date)
    if agreement.end_date is not None:
        return f"{start} to {day(agreement.end_date)}"
    notice = agreement.notice_months
    if notice:
        return f"From {start}, rolling ({notice} month{'' if notice == 1 else 's'}' notice)"
    return f"From {start}, rolling"


@dataclass(frozen=True)
class KeyDate:
    on: date
    text: str


def next_key_date(agreement: AgreementOut, today: date) -> KeyDate | None:
    """The soonest date still to come that somebody must act on or know about."""
    if agreement.status == AgreementStatus.ENDED:
        return None
    found: list[KeyDate] = []
    if agreement.status == AgreementStatus.DRAFT:
        found.append(KeyDate(agreement.start_date, "starts"))
    if agreement.end_date is not None:
        found.append(KeyDate(agreement.end_date, "ends"))
    for item in agreement.breaks:
        if item.last_notice_day >= today:
            found.append(
                KeyDate(item.last_notice_day, f"last day to give notice for the {day(item.break_date)} break")
            )
        else:
            found.append(KeyDate(item.break_date, "break date"))
    for review in agreement.reviews:
        found.append(KeyDate(review.review_date, "rent review"))
    if agreement.insurance_expires_on is not None:
        found.append(KeyDate(agreement.insurance_expires_on, "insurance expires"))
    upcoming = sorted((k for k in found if k.on >= today), key=lambda k: k.on)
    return upcoming[0] if upcoming else None


def _vat_words(settings: Settings) -> str:
    if settings.opted_to_tax:
        return "standard-rated (the hub has opted to tax the building)"
    return "exempt (the hub has not opted to tax the building)"


def _helpers(settings: Settings) -> dict[str, Any]:
    return {
        "money": format_pence,
        "day": day,
        "area": area,
        "percent": percent,
        "after_discount": after_discount,
        "hours": hours,
        "file_size": file_size,
        "term": term,
        "statuses": STATUS_LABELS,
        "kinds": KIND_LABELS,
        "frequencies": FREQUENCY_LABELS,
        "unit_kinds": UNIT_KIND_LABELS,
        "unit_statuses": UNIT_STATUS_LABELS,
        "alert_kinds": ALERT_KIND_LABELS,
        "vat_words": _vat_words(settings),
        "today": settings.today(),
    }


async def _organisation_names(db: AsyncSession, identity: Identity) -> dict[int, str]:
    found = await organisations.search(db, identity, active=None, per_page=200)
    return {o.id: o.name for o in found.items}


# --- reading what people type ----------------------------------------------------------------------


def _amount(text: str | None, field: str, *, blank: int | None = 0) -> int | None:
    """Pounds as typed → pence, where zero is a real answer (no rent, no deposit); blank → ``blank``."""
    raw = (text or "").strip().replace(" ", "").removeprefix("£")
    if not raw:
        if blank is None:
            raise InvalidInput("Enter an amount in pounds, such as 12.50; 0 for none.", field=field)
        return blank
    if raw.startswith(("-", "−")):
        raise InvalidInput("Enter the amount without a minus sign.", field=field)
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput("Enter an amount in pounds, such as 12.50.", field=field) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput("Enter an amount in pounds, such as 12.50.", field=field)
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(
            "Enter pounds and pence, with no more than two digits after the point.", field=field
        )
    if value > 1_000_000:
        raise InvalidInput("That is more than £1,000,000.00; check the amount.", field=field)
    return int(value * 100)


def _decimal(text: str | None, field: str, *, what: str, most: Decimal, places: int = 2) -> Decimal | None:
    raw = (text or "").strip().replace(",", "").removesuffix("%").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"Enter {what} as a number, such as 12.5.", field=field) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"Enter {what} as a number of 0 or more.", field=field)
    if value > most:
        raise InvalidInput(f"Enter {what} of at most {most:g}.", field=field)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput(f"Enter {what} with at most {places} digits after the point.", field=field)
    return value


def _percent_bp(text: str | None, field: str) -> int | None:
    value = _decimal(text, field, what="a percentage", most=Decimal(100))
    return None if value is None else int(value * 100)


def _whole(text: str | None, field: str, *, what: str, most: int) -> int | None:
    raw = (text or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(f"Enter {what} as a whole number, such as 3.", field=field)
    value = int(raw)
    if value > most:
        raise InvalidInput(f"Enter {what} of at most {most}.", field=field)
    return value


def _unit_data(form: dict[str, str]) -> dict[str, Any]:
    """A unit as the services take it, or InvalidInput naming every field that is wrong."""
    problems = Problems()
    if not form.get("name"):
        problems.add("name", "Enter the unit's name.")
    if form.get("kind") not in UNIT_KIND_LABELS:
        problems.add("kind", "Choose office, desk or storage.")
    size = problems.read(_decimal, form.get("floor_area"), "floor_area", what="the floor area", most=MAX_AREA)
    if size is None and not form.get("floor_area"):
        problems.add("floor_area", "Enter the floor area in square metres, such as 18.5.")
    problems.raise_any()
    features = [f.strip() for f in form.get("features", "").split(",") if f.strip()]
    return {
        "name": form["name"],
        "kind": form["kind"],
        "floor": form.get("floor", ""),
        "area_m2": str(size),
        "features": features,
        "out_of_use": form.get("out_of_use") == "yes",
        "notes": form.get("notes", ""),
    }


def _unit_values(unit: UnitOut) -> dict[str, str]:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "floor": unit.floor or "",
        "floor_area": f"{unit.area_m2:f}".rstrip("0").rstrip(".") if unit.area_m2 is not None else "",
        "features": ", ".join(unit.features or []),
        "out_of_use": "yes" if unit.out_of_use else "",
        "notes": unit.notes or "",
    }


# Schema fields → the inputs on the page that hold them (named so the error summary reads well).
UNIT_FIELDS = {"area_m2": "floor_area"}
AGREEMENT_FIELDS = {
    "rent_pence_per_year": "rent",
    "service_charge_pence_per_year": "service_charge",
    "deposit_pence": "deposit",
    "discount_bp": "discount_percent",
    "included_minutes_per_month": "included_hours",
    "unit_ids": "units",
    "unit_ids*": "units",
    "organisation_id": "organisation",
}


def _agreement_data(
    form: dict[str, str], unit_ids: list[str], *, organisation: bool = True
) -> dict[str, Any]:
    """An agreement's terms as the services take them; InvalidInput names every wrong field.
    (An agreement's tenant is fixed once written: the edit form has no organisation.)"""
    problems = Problems()
    organisation_id = parse_id(form.get("organisation"))
    if organisation and organisation_id is None:
        problems.add("organisation", "Choose the tenant organisation.")
    if form.get("kind") not in KIND_LABELS:
        problems.add("kind", "Choose licence or lease.")
    if form.get("frequency") not in FREQUENCY_LABELS:
        problems.add("frequency", "Choose monthly or quarterly.")
    units = [parse_id(value) for value in unit_ids]
    if not unit_ids:
        problems.add("units", "Tick at least one unit.")
    elif any(u is None for u in units):
        problems.add("units", "Tick units from the list.")
    start = problems.read(parse_day, form.get("start_date"), "start_date")
    end = problems.read(parse_day, form.get("end_date"), "end_date", required=False)
    rent_free_start = problems.read(parse_day, form.get("rent_free_start"), "rent_free_start", required=False)
    rent_free_end = problems.read(parse_day, form.get("rent_free_end"), "rent_free_end", required=False)
    if (rent_free_start is None) != (rent_free_end is None) and not problems.items:
        missing = "rent_free_end" if rent_free_end is None else "rent_free_start"
        problems.add(missing, "Give both the first and the last rent-free day, or neither.")
    insurance = problems.read(
        parse_day, form.get("insurance_expires_on"), "insurance_expires_on", required=False
    )
    rent = problems.read(_amount, form.get("rent"), "rent", blank=None)
    service_charge = problems.read(_amount, form.get("service_charge"), "service_charge")
    deposit = problems.read(_amount, form.get("deposit"), "deposit")
    discount = problems.read(_percent_bp, form.get("discount_percent"), "discount_percent")
    notice = problems.read(
        _whole, form.get("notice_months"), "notice_months", what="the notice period", most=MAX_NOTICE_MONTHS
    )
    included = problems.read(
        _decimal, form.get("included_hours"), "included_hours", what="the hours", most=Decimal(MAX_HOURS)
    )
    if discount and not form.get("discount_reason"):
        problems.add("discount_reason", "Say why the discount is given; it is shown on invoices.")
    problems.raise_any()
    data = {
        "organisation_id": organisation_id,
        "unit_ids": [u for u in units if u is not None],
        "kind": form["kind"],
        "start_date": start,
        "end_date": end,
        "notice_months": notice,
        "rent_pence_per_year": rent,
        "service_charge_pence_per_year": service_charge or 0,
        "frequency": form["frequency"],
        "rent_free_start": rent_free_start,
        "rent_free_end": rent_free_end,
        "discount_bp": discount or 0,
        "discount_reason": form.get("discount_reason") or None,
        "deposit_pence": deposit or 0,
        "permitted_use": form.get("permitted_use", ""),
        "insurance_expires_on": insurance,
        "included_minutes_per_month": int((included or 0) * 60),
    }
    if not organisation:
        del data["organisation_id"]
    return data


def _agreement_values(agreement: AgreementOut) -> tuple[dict[str, str], list[str]]:
    """What the edit form shows for a stored agreement, and its ticked units."""
    hours_value = agreement.included_minutes_per_month / 60
    values = {
        "organisation": str(agreement.organisation_id),
        "kind": str(agreement.kind),
        "start_date": agreement.start_date.isoformat(),
        "end_date": agreement.end_date.isoformat() if agreement.end_date else "",
        "notice_months": "" if agreement.notice_months is None else str(agreement.notice_months),
        "rent": pounds_input(agreement.rent_pence_per_year),
        "service_charge": pounds_input(agreement.service_charge_pence_per_year),
        "frequency": str(agreement.frequency),
        "rent_free_start": agreement.rent_free_start.isoformat() if agreement.rent_free_start else "",
        "rent_free_end": agreement.rent_free_end.isoformat() if agreement.rent_free_end else "",
        "discount_percent": f"{agreement.discount_bp / 100:g}" if agreement.discount_bp else "",
        "discount_reason": agreement.discount_reason or "",
        "deposit": pounds_input(agreement.deposit_pence),
        "permitted_use": agreement.permitted_use or "",
        "insurance_expires_on": (
            agreement.insurance_expires_on.isoformat() if agreement.insurance_expires_on else ""
        ),
        "included_hours": f"{hours_value:g}",
    }
    return values, [str(u.id) for u in agreement.units]


async def _posted_unit_ids(request: Request[Any, Any, Any]) -> list[str]:
    form = await request.form()
    return [v.strip() for v in form.getall("units", []) if isinstance(v, str)][:200]


async def _form_choices(
    db: AsyncSession, settings: Settings, identity: Identity, chosen: list[str] | None = None
) -> dict[str, Any]:
    """The selects of the agreement form; a unit out of use is offered only if already chosen."""
    found = await organisations.search(db, identity, active=True, per_page=200)
    unit_options = []
    listed = await unit_service.list_units(db, settings.today())
    # The units free today first (what a new agreement usually wants), then the rest, by floor.
    listed.sort(key=lambda u: (u.status != UnitStatus.AVAILABLE, u.floor, u.name))
    for unit in listed:
        if unit.out_of_use and str(unit.id) not in (chosen or []):
            continue
        state = UNIT_STATUS_LABELS.get(unit.status, unit.status).lower()
        if unit.organisation_name:
            state += f" to {unit.organisation_name}"
        kind = UNIT_KIND_LABELS.get(unit.kind, unit.kind)
        floor = f", {unit.floor} floor" if unit.floor else ""
        unit_options.append((unit.id, f"{unit.name} · {kind}{floor}, {area(unit.area_m2)} ({state} today)"))
    return {
        "organisation_options": [(o.id, o.name) for o in found.items],
        "kind_options": list(KIND_LABELS.items()),
        "frequency_options": list(FREQUENCY_LABELS.items()),
        "unit_options": unit_options,
    }


# --- agreements ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementRow:
    agreement: AgreementOut
    next_key: KeyDate | None


@get("/tenancies", opt=READERS, include_in_schema=False)
async def agreement_list(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    status: FromQuery[str] = "current",
) -> Template:
    errors: dict[str, str] = {}
    if status not in dict(STATUS_FILTERS):
        errors["status"] = "Choose one of the listed statuses."
        status = "current"
    wanted = AgreementStatus(status) if status not in ("", "current") else None
    found = await agreement_service.list_agreements(db, identity, status=wanted)
    if status == "current":
        found = [a for a in found if a.status != AgreementStatus.ENDED.value]
    today = settings.today()
    shown = await agreement_service.agreements_out(db, settings, found, today)
    rows = [AgreementRow(a, next_key_date(a, today)) for a in shown]
    return render(
        request,
        "tenants/staff/agreements.html",
        title="Tenancies",
        rows=rows,
        status=status,
        status_label={"current": "current", "": ""}.get(status, STATUS_LABELS.get(status, "").lower()),
        status_filter_options=STATUS_FILTERS,
        errors=errors,
        can_edit=identity.role in ADMIN_ONLY,
        **_helpers(settings),
    )


async def _new_form_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    *,
    values: dict[str, str],
    chosen_units: list[str],
    exc: DomainError | None = None,
) -> Template:
    errors: dict[str, str] = {}
    summary = None
    if exc is not None:
        await db.rollback()
        errors, summary = renamed(exc, AGREEMENT_FIELDS, default="form")
    return render(
        request,
        "tenants/staff/agreement_new.html",
        status_code=exc.status_code if exc is not None else 200,
        title="New agreement",
        values=values,
        chosen_units=chosen_units,
        errors=errors,
        error_summary=summary,
        **await _form_choices(db, settings, identity, chosen_units),
        **_helpers(settings),
    )


@get("/tenancies/agreements/new", opt=WRITERS, include_in_schema=False)
async def agreement_new(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    values = {"service_charge": "0", "deposit": "0", "included_hours": "0"}
    organisation = parse_id(request.query_params.get("organisation_id"))
    if organisation is not None:
        values["organisation"] = str(organisation)
    chosen = [str(u) for u in [parse_id(request.query_params.get("unit_id"))] if u is not None]
    return await _new_form_page(request, db, settings, identity, values=values, chosen_units=chosen)


@post("/tenancies/agreements/new", opt=WRITERS, include_in_schema=False)
async def agreement_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    unit_ids = await _posted_unit_ids(request)
    try:
        data = convert_input(_agreement_data(form, unit_ids), AgreementCreate)
        created = await agreement_service.create_agreement(db, settings, identity, data)
    except DomainError as exc:
        return await _new_form_page(
            request, db, settings, identity, values=form, chosen_units=unit_ids, exc=exc
        )
    return redirect(
        request,
        f"/tenancies/agreements/{created.id}",
        flash=f"Agreement {created.reference} was saved as a draft. Activate it once it is signed.",
    )


async def _agreement_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    agreement_id: int,
    *,
    exc: DomainError | None = None,
    names: dict[str, str] | None = None,
    default: str = "form",
    form: dict[str, str] | None = None,
    panel: str = "",
    chosen_units: list[str] | None = None,
) -> Template:
    """An agreement's page; after a refused change, the error beside its field in the open panel."""
    if exc is not None:
        await db.rollback()
    found = await agreement_service.get_agreement(db, identity, agreement_id)
    agreement = await agreement_service.one_out(db, settings, found)
    errors: dict[str, str] = {}
    summary = None
    if exc is not None:
        errors, summary = renamed(exc, names or {}, default=default)
        if isinstance(exc, agreement_service.DocumentTooLarge):
            errors["document"] = (
                f"The file is larger than {file_size(settings.agreement_document_max_bytes)}: "
                "scan it at a lower resolution, or upload the signed pages only."
            )
    edit_values, edit_units = _agreement_values(agreement)
    values: dict[str, str] = {}
    if panel == "edit" and form is not None:
        edit_values, edit_units = form, chosen_units or []
    elif form is not None:
        values = form
    # The change history is the office's, as on an organisation's page (trustees read the terms).
    history = await _history(db, agreement.id) if identity.role in STAFF else None
    renewal_of = None
    if agreement.renewal_of_id is not None:
        renewal_of = await agreement_service.get_agreement(db, identity, agreement.renewal_of_id)
    renewed_by = [
        a
        for a in await agreement_service.list_agreements(
            db, identity, organisation_id=agreement.organisation_id
        )
        if a.renewal_of_id == agreement.id
    ]
    can_edit = identity.role in ADMIN_ONLY
    choices = await _form_choices(db, settings, identity, edit_units) if can_edit else {}
    return render(
        request,
        "tenants/staff/agreement.html",
        status_code=exc.status_code if exc is not None else 200,
        title=f"{agreement.reference} · {agreement.organisation_name}",
        agreement=agreement,
        renewal_of=renewal_of,
        renewed_by=renewed_by,
        values=values,
        edit_values=edit_values,
        chosen_units=edit_units,
        edit_errors=errors if panel == "edit" else {},
        errors=errors,
        error_summary=summary,
        open_panel=panel,
        history=history,
        can_edit=can_edit,
        can_download=identity.role in STAFF,
        deposits_ready=_deposits() is not None,
        deposit_actions=DEPOSIT_ACTIONS,
        deposit_methods=DEPOSIT_METHODS,
        charges=await _charges(db, identity, agreement.id),
        max_document_bytes=settings.agreement_document_max_bytes,
        **choices,
        **_helpers(settings),
    )


async def _history(db: AsyncSession, agreement_id: int) -> list[Any]:
    """The agreement's audit entries, newest first (its deposit's are kept under "agreement")."""
    entries = []
    for object_type in ("tenant_agreement", "agreement"):
        found = await audit.list_entries(
            db, object_type=object_type, object_id=str(agreement_id), per_page=50
        )
        entries.extend(found.items)
    return sorted(entries, key=lambda e: e.at, reverse=True)[:50]


def _deposits() -> Any:
    """T2's deposits service, once it exists (the page offers its form only then)."""
    try:
        from tenants.services import deposits  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return deposits


async def _charges(db: AsyncSession, identity: Identity, agreement_id: int) -> list[ChargeOut]:
    """Everything the agreement has been charged so far (rent, service charge, hours beyond the
    allowance), newest first, as money records it: each period's charge with its invoice."""
    return await charges.charges_for_source(db, identity, billing.SOURCE_TYPE, str(agreement_id))


@get("/tenancies/agreements/{agreement_id:int}", opt=READERS, include_in_schema=False)
async def agreement_detail(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template:
    return await _agreement_page(request, db, settings, identity, agreement_id)


@post("/tenancies/agreements/{agreement_id:int}", opt=WRITERS, include_in_schema=False)
async def agreement_update(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    unit_ids = await _posted_unit_ids(request)
    try:
        data = _agreement_data(form, unit_ids, organisation=False)
        await agreement_service.update_agreement(
            db, settings, identity, agreement_id, convert_input(data, AgreementUpdate)
        )
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names=AGREEMENT_FIELDS,
            form=form,
            panel="edit",
            chosen_units=unit_ids,
        )
    return redirect(request, f"/tenancies/agreements/{agreement_id}", flash="Changes saved.")


@post("/tenancies/agreements/{agreement_id:int}/activate", opt=WRITERS, include_in_schema=False)
async def agreement_activate(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    try:
        agreement = await agreement_service.activate(db, settings, identity, agreement_id)
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={"unit_ids": "status"},
            default="status",
        )
    return redirect(
        request,
        f"/tenancies/agreements/{agreement_id}",
        flash=f"{agreement.reference} is active: it is billed from {day(agreement.start_date)}.",
    )


@post("/tenancies/agreements/{agreement_id:int}/notice", opt=WRITERS, include_in_schema=False)
async def agreement_notice(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    given_on = problems.read(parse_day, form.get("notice_given_on"), "notice_given_on")
    end_date = problems.read(parse_day, form.get("notice_end_date"), "notice_end_date", required=False)
    if not form.get("notice_reason"):
        problems.add("notice_reason", "Say who gave notice and why, for the record.")
    try:
        problems.raise_any()
        assert given_on is not None
        agreement = await agreement_service.give_notice(
            db, settings, identity, agreement_id, given_on, end_date, form["notice_reason"][:1000]
        )
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={"given_on": "notice_given_on", "end_date": "notice_end_date", "reason": "notice_reason"},
            default="notice_given_on",
            form=form,
            panel="notice",
        )
    ends = f" It ends on {day(agreement.end_date)}." if agreement.end_date else ""
    return redirect(request, f"/tenancies/agreements/{agreement_id}", flash=f"Notice recorded.{ends}")


@post("/tenancies/agreements/{agreement_id:int}/end", opt=WRITERS, include_in_schema=False)
async def agreement_end(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    ended_on = problems.read(parse_day, form.get("ended_on"), "ended_on")
    if not form.get("end_reason"):
        problems.add("end_reason", "Say why the agreement is ending, for the record.")
    try:
        problems.raise_any()
        assert ended_on is not None
        agreement = await agreement_service.end_agreement(
            db, settings, identity, agreement_id, ended_on, form["end_reason"][:1000]
        )
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={"reason": "end_reason", "status": "ended_on"},
            default="ended_on",
            form=form,
            panel="end",
        )
    return redirect(
        request,
        f"/tenancies/agreements/{agreement_id}",
        flash=f"{agreement.reference} has ended; its last day is {day(ended_on)}.",
    )


@post("/tenancies/agreements/{agreement_id:int}/renew", opt=WRITERS, include_in_schema=False)
async def agreement_renew(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    end_date = problems.read(parse_day, form.get("renew_end_date"), "renew_end_date", required=False)
    rent = (
        problems.read(_amount, form.get("renew_rent"), "renew_rent", blank=None)
        if form.get("renew_rent")
        else None
    )
    notice = problems.read(
        _whole,
        form.get("renew_notice_months"),
        "renew_notice_months",
        what="the notice period",
        most=MAX_NOTICE_MONTHS,
    )
    try:
        problems.raise_any()
        data = convert_input(
            {"end_date": end_date, "rent_pence_per_year": rent, "notice_months": notice}, RenewIn
        )
        created = await agreement_service.renew(db, settings, identity, agreement_id, data)
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={
                "end_date": "renew_end_date",
                "rent_pence_per_year": "renew_rent",
                "notice_months": "renew_notice_months",
                "status": "renew_end_date",
                "renewal_of_id": "renew_end_date",
                "unit_ids": "renew_end_date",
            },
            default="renew_end_date",
            form=form,
            panel="renew",
        )
    return redirect(
        request,
        f"/tenancies/agreements/{created.id}",
        flash=f"Renewal {created.reference} was saved as a draft from {day(created.start_date)}. "
        "Check its terms, then activate it once signed.",
    )


@post("/tenancies/agreements/{agreement_id:int}/breaks", opt=WRITERS, include_in_schema=False)
async def agreement_add_break(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    break_date = problems.read(parse_day, form.get("break_date"), "break_date")
    notice_days = problems.read(
        _whole, form.get("notice_days"), "notice_days", what="the days' notice", most=MAX_NOTICE_DAYS
    )
    if notice_days is None and not form.get("notice_days"):
        problems.add("notice_days", "Enter the days' notice needed, such as 90.")
    try:
        problems.raise_any()
        data = convert_input({"break_date": break_date, "notice_days": notice_days}, BreakIn)
        await agreement_service.add_break(db, settings, identity, agreement_id, data)
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={
                "break.break_date": "break_date",
                "break.notice_days": "notice_days",
                "status": "break_date",
            },
            default="break_date",
            form=form,
            panel="breaks",
        )
    assert break_date is not None and notice_days is not None
    last = break_date - timedelta(days=notice_days)
    return redirect(
        request,
        f"/tenancies/agreements/{agreement_id}",
        flash=f"Break date {day(break_date)} added: notice must be given by {day(last)}.",
    )


@post("/tenancies/agreements/{agreement_id:int}/reviews", opt=WRITERS, include_in_schema=False)
async def agreement_add_review(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    review_date = problems.read(parse_day, form.get("review_date"), "review_date")
    uplift = problems.read(_percent_bp, form.get("uplift_percent"), "uplift_percent")
    index_name = form.get("index_name") or None
    if uplift is None and index_name is None and not form.get("uplift_percent"):
        problems.add("uplift_percent", "Give a fixed uplift, or name the index to apply by hand.")
    if uplift is not None and index_name is not None:
        problems.add("index_name", "Give a fixed uplift or an index, not both.")
    try:
        problems.raise_any()
        data = convert_input(
            {"review_date": review_date, "uplift_bp": uplift, "index_name": index_name}, ReviewIn
        )
        await agreement_service.add_review(db, settings, identity, agreement_id, data)
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={
                "review.review_date": "review_date",
                "review.uplift_bp": "uplift_percent",
                "review.index_name": "index_name",
                "uplift_bp": "uplift_percent",
                "status": "review_date",
            },
            default="review_date",
            form=form,
            panel="reviews",
        )
    assert review_date is not None
    return redirect(
        request, f"/tenancies/agreements/{agreement_id}", flash=f"Rent review on {day(review_date)} added."
    )


@post("/tenancies/agreements/{agreement_id:int}/deposit", opt=WRITERS, include_in_schema=False)
async def agreement_deposit(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    deposits = _deposits()
    problems = Problems()
    action = form.get("deposit_action", "")
    if action not in dict(DEPOSIT_ACTIONS):
        problems.add("deposit_action", "Choose received, returned or kept.")
    on = problems.read(parse_day, form.get("deposit_on"), "deposit_on")
    amount = None
    if action == "kept" and form.get("deposit_amount"):
        amount = problems.read(_amount, form.get("deposit_amount"), "deposit_amount", blank=None)
    try:
        if deposits is None:
            raise InvalidInput("Deposits cannot be recorded here yet.", field="deposit_action")
        problems.raise_any()
        await _record_deposit(deposits, db, identity, agreement_id, action, on, amount, form)
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            names={
                "amount_pence": "deposit_amount",
                "on": "deposit_on",
                "note": "deposit_note",
                "action": "deposit_action",
                "method": "deposit_method",
                "status": "deposit_action",
            },
            default="deposit_action",
            form=form,
            panel="deposit",
        )
    return redirect(
        request, f"/tenancies/agreements/{agreement_id}", flash=f"Deposit recorded as {action} on {day(on)}."
    )


async def _record_deposit(
    deposits: Any,
    db: AsyncSession,
    identity: Identity,
    agreement_id: int,
    action: str,
    on: date | None,
    amount: int | None,
    form: dict[str, str],
) -> None:
    """Hand the deposit to the deposits service (money held in the ledger, never income)."""
    await deposits.record(
        db,
        identity,
        agreement_id,
        action=action,
        on=on,
        amount_pence=amount,
        note=form.get("deposit_note", "")[:1000],
        method=form.get("deposit_method") or "bank",
    )


@post(
    "/tenancies/agreements/{agreement_id:int}/document",
    opt=WRITERS,
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def agreement_upload(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    agreement_id: FromPath[int],
) -> Template | Redirect:
    form = await request.form()
    upload = form.get("document")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose the PDF of the signed agreement.", field="document")
        content = await upload.read()
        await agreement_service.upload_document(
            db, settings, identity, agreement_id, content, upload.filename
        )
    except DomainError as exc:
        return await _agreement_page(
            request,
            db,
            settings,
            identity,
            agreement_id,
            exc=exc,
            default="document",
            form={},
            panel="document",
        )
    return redirect(
        request, f"/tenancies/agreements/{agreement_id}", flash="The signed agreement was uploaded."
    )


@get("/tenancies/agreements/{agreement_id:int}/document", opt=DOCUMENT_READERS, include_in_schema=False)
async def agreement_download(
    db: Db, settings: SettingsDep, identity: Caller, agreement_id: FromPath[int]
) -> File:
    path, filename = await agreement_service.document_for(db, settings, identity, agreement_id)
    return File(
        path=path, filename=filename, media_type="application/pdf", content_disposition_type="attachment"
    )


# --- units ---------------------------------------------------------------------------------------------


@get("/tenancies/units", opt=READERS, include_in_schema=False)
async def unit_list(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    rows = await unit_service.list_units(db, settings.today())
    lettable = sum((r.area_m2 for r in rows if r.status != UnitStatus.UNAVAILABLE), Decimal(0))
    let = sum((r.area_m2 for r in rows if r.status == UnitStatus.LET), Decimal(0))
    return render(
        request,
        "tenants/staff/units.html",
        title="Units",
        units=rows,
        lettable_m2=lettable,
        let_m2=let,
        can_edit=identity.role in ADMIN_ONLY,
        **_helpers(settings),
    )


def _unit_form_choices() -> dict[str, Any]:
    return {"unit_kind_options": list(UNIT_KIND_LABELS.items())}


@get("/tenancies/units/new", opt=WRITERS, include_in_schema=False)
async def unit_new(request: Request[Any, Any, Any], settings: SettingsDep) -> Template:
    return render(
        request,
        "tenants/staff/unit_new.html",
        title="Add a unit",
        values={"kind": UnitKind.OFFICE.value},
        **_unit_form_choices(),
        **_helpers(settings),
    )


@post("/tenancies/units/new", opt=WRITERS, include_in_schema=False)
async def unit_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    try:
        data = convert_input(_unit_data(form), UnitCreate)
        unit = await unit_service.create_unit(db, identity, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = renamed(exc, UNIT_FIELDS, default="name")
        return render(
            request,
            "tenants/staff/unit_new.html",
            status_code=exc.status_code,
            title="Add a unit",
            values=form,
            errors=errors,
            error_summary=summary,
            **_unit_form_choices(),
            **_helpers(settings),
        )
    return redirect(request, f"/tenancies/units/{unit.id}", flash=f"{unit.name} was added.")


async def _unit_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    unit_id: int,
    *,
    exc: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    if exc is not None:
        await db.rollback()
    unit = await unit_service.get_unit_out(db, unit_id, settings.today())
    errors: dict[str, str] = {}
    summary = None
    if exc is not None:
        errors, summary = renamed(exc, UNIT_FIELDS, default="name")
    agreements = await agreement_service.agreements_out(
        db, settings, await agreement_service.list_agreements(db, identity, unit_id=unit.id)
    )
    history = (
        await audit.list_entries(db, object_type="tenant_unit", object_id=str(unit.id), per_page=50)
    ).items
    return render(
        request,
        "tenants/staff/unit.html",
        status_code=exc.status_code if exc is not None else 200,
        title=unit.name,
        unit=unit,
        agreements=agreements,
        values=form if form is not None else _unit_values(unit),
        errors=errors,
        error_summary=summary,
        history=history,
        can_edit=identity.role in ADMIN_ONLY,
        **_unit_form_choices(),
        **_helpers(settings),
    )


@get("/tenancies/units/{unit_id:int}", opt=READERS, include_in_schema=False)
async def unit_detail(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, unit_id: FromPath[int]
) -> Template:
    return await _unit_page(request, db, settings, identity, unit_id)


@post("/tenancies/units/{unit_id:int}", opt=WRITERS, include_in_schema=False)
async def unit_update(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, unit_id: FromPath[int]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        data = convert_input(_unit_data(form), UnitUpdate)
        unit = await unit_service.update_unit(db, identity, unit_id, data)
    except DomainError as exc:
        return await _unit_page(request, db, settings, identity, unit_id, exc=exc, form=form)
    return redirect(request, f"/tenancies/units/{unit.id}", flash="Changes saved.")


# --- alerts ------------------------------------------------------------------------------------------------


@get("/tenancies/alerts", opt=READERS, include_in_schema=False)
async def alert_list(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    from tenants.services import alerts as alert_service  # type: ignore[attr-defined,unused-ignore]

    found = await alert_service.alerts(db, settings, settings.today())
    return render(
        request,
        "tenants/staff/alerts.html",
        title="Key dates and alerts",
        alerts=found,
        lead_days=settings.agreement_alert_days,
        **_helpers(settings),
    )


ROUTES: list[ControllerRouterHandler] = [
    agreement_list,
    agreement_new,
    agreement_create,
    agreement_detail,
    agreement_update,
    agreement_activate,
    agreement_notice,
    agreement_end,
    agreement_renew,
    agreement_add_break,
    agreement_add_review,
    agreement_deposit,
    agreement_upload,
    agreement_download,
    unit_list,
    unit_new,
    unit_create,
    unit_detail,
    unit_update,
    alert_list,
]
