"""Agreements between the hub and its tenants: the rules a licence or lease must keep.

Statuses go ``draft`` → ``active`` → ``notice_given`` → ``ended`` (a draft or an active agreement
may also be ended at once). Nothing is deleted: an agreement ends, with a date and a reason, and
a renewal is a new agreement linked to the old one. Every change is in the audit log, written in
the change's own transaction. A tenant sees only its own organisation's agreements: any other id
answers 404, as if it did not exist.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from msgspec import UNSET
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.models import Organisation, Role
from hub.services import audit
from tenants.models import (
    Agreement,
    AgreementBreak,
    AgreementStatus,
    RentReview,
    Unit,
    agreement_units,
)
from tenants.schemas import (
    AgreementCreate,
    AgreementOut,
    AgreementUpdate,
    BreakIn,
    BreakOut,
    DocumentOut,
    RenewIn,
    ReviewIn,
    ReviewOut,
    UnitBrief,
)
from tenants.services.units import live_on

STANDARD_VAT_BP = 2_000
PDF_MAGIC = b"%PDF-"
DEFAULT_RENEWAL_NOTICE_MONTHS = 3


class DocumentTooLarge(InvalidInput):
    status_code = 413
    slug = "payload-too-large"
    title = "The file is too large"


# -- small date and money rules ---------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_notice_day(break_date: date, notice_days: int) -> date:
    return break_date - timedelta(days=notice_days)


def rent_in_force(agreement: Agreement, day: date) -> int:
    """The yearly rent on ``day``: that of the latest review on or before it with a new rent set."""
    rent = agreement.rent_pence_per_year
    for review in sorted(agreement.reviews, key=lambda r: r.review_date):
        if review.review_date <= day and review.new_rent_pence_per_year is not None:
            rent = review.new_rent_pence_per_year
    return rent


def uplift(rent_pence: int, uplift_bp: int) -> int:
    """Rent raised by ``uplift_bp`` basis points, rounded half-up to the penny (integers only)."""
    return (rent_pence * (10_000 + uplift_bp) * 2 + 10_000) // 20_000


def vat_rate_bp(settings: Settings) -> int:
    """Rent and service charges are exempt unless the hub has opted to tax the building."""
    return STANDARD_VAT_BP if settings.opted_to_tax else 0


# -- reading ------------------------------------------------------------------------------------


async def _load(db: AsyncSession, agreement_id: int, *, lock: bool = False) -> Agreement:
    if not is_valid_id(agreement_id):
        raise NotFound("That agreement was not found.")
    query = select(Agreement).where(Agreement.id == agreement_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    found = await db.scalar(query)
    if found is None:
        raise NotFound("That agreement was not found.")
    return found


async def get_agreement(
    db: AsyncSession, identity: Identity, agreement_id: int, *, lock: bool = False
) -> Agreement:
    """One agreement; a tenant asking for another organisation's answers 404."""
    agreement = await _load(db, agreement_id, lock=lock)
    identity.require_organisation(agreement.organisation_id, "That agreement")
    return agreement


async def list_agreements(
    db: AsyncSession,
    identity: Identity,
    *,
    status: AgreementStatus | None = None,
    organisation_id: int | None = None,
    unit_id: int | None = None,
) -> list[Agreement]:
    """Agreements, newest start first; a tenant's list holds only its own organisation's."""
    conditions: list[Any] = []
    if identity.role == Role.TENANT:
        conditions.append(Agreement.organisation_id == identity.organisation_id)
    if organisation_id is not None:
        conditions.append(Agreement.organisation_id == organisation_id)
    if status is not None:
        conditions.append(Agreement.status == status.value)
    if unit_id is not None:
        conditions.append(
            Agreement.id.in_(
                select(agreement_units.c.agreement_id).where(agreement_units.c.unit_id == unit_id)
            )
        )
    query = select(Agreement).where(*conditions).order_by(Agreement.start_date.desc(), Agreement.id.desc())
    return list(await db.scalars(query))


async def live_agreement_for(db: AsyncSession, organisation_id: int, day: date) -> Agreement | None:
    """The organisation's agreement in force on ``day`` (active or under notice), if any."""
    query = (
        select(Agreement)
        .where(Agreement.organisation_id == organisation_id, live_on(day))
        .order_by(Agreement.start_date.desc(), Agreement.id.desc())
        .limit(1)
    )
    return await db.scalar(query)


async def organisation_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {int(i): str(n) for i, n in rows.all()}


def agreement_out(
    agreement: Agreement, organisation_name: str, settings: Settings, today: date
) -> AgreementOut:
    document = None
    if agreement.document_stored_name and agreement.document_uploaded_at is not None:
        document = DocumentOut(
            filename=agreement.document_filename or "agreement.pdf",
            size=agreement.document_size or 0,
            uploaded_at=agreement.document_uploaded_at,
            url=f"/api/v1/agreements/{agreement.id}/document",
        )
    return AgreementOut(
        id=agreement.id,
        reference=agreement.reference,
        organisation_id=agreement.organisation_id,
        organisation_name=organisation_name,
        kind=agreement.kind,  # type: ignore[arg-type]
        status=agreement.status,  # type: ignore[arg-type]
        units=[
            UnitBrief(id=u.id, name=u.name, kind=u.kind, floor=u.floor, area_m2=u.area_m2)  # type: ignore[arg-type]
            for u in agreement.units
        ],
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        notice_months=agreement.notice_months,
        rent_pence_per_year=agreement.rent_pence_per_year,
        rent_in_force_pence_per_year=rent_in_force(agreement, today),
        service_charge_pence_per_year=agreement.service_charge_pence_per_year,
        frequency=agreement.frequency,  # type: ignore[arg-type]
        rent_free_start=agreement.rent_free_start,
        rent_free_end=agreement.rent_free_end,
        discount_bp=agreement.discount_bp,
        discount_reason=agreement.discount_reason,
        deposit_pence=agreement.deposit_pence,
        deposit_received_on=agreement.deposit_received_on,
        deposit_returned_on=agreement.deposit_returned_on,
        deposit_kept_pence=agreement.deposit_kept_pence,
        deposit_kept_on=agreement.deposit_kept_on,
        deposit_note=agreement.deposit_note,
        permitted_use=agreement.permitted_use,
        insurance_expires_on=agreement.insurance_expires_on,
        included_minutes_per_month=agreement.included_minutes_per_month,
        vat_rate_bp=vat_rate_bp(settings),
        notice_given_on=agreement.notice_given_on,
        ended_on=agreement.ended_on,
        end_reason=agreement.end_reason,
        renewal_of_id=agreement.renewal_of_id,
        breaks=[
            BreakOut(
                id=b.id,
                break_date=b.break_date,
                notice_days=b.notice_days,
                last_notice_day=last_notice_day(b.break_date, b.notice_days),
            )
            for b in agreement.breaks
        ],
        reviews=[
            ReviewOut(
                id=r.id,
                review_date=r.review_date,
                uplift_bp=r.uplift_bp,
                index_name=r.index_name,
                new_rent_pence_per_year=r.new_rent_pence_per_year,
            )
            for r in agreement.reviews
        ],
        document=document,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
    )


async def agreements_out(
    db: AsyncSession, settings: Settings, agreements: list[Agreement], today: date | None = None
) -> list[AgreementOut]:
    """Agreements as the API shows them: one more query for their tenants' names."""
    names = await organisation_names(db, {a.organisation_id for a in agreements})
    day = today or settings.today()
    return [agreement_out(a, names.get(a.organisation_id, ""), settings, day) for a in agreements]


async def one_out(db: AsyncSession, settings: Settings, agreement: Agreement) -> AgreementOut:
    return (await agreements_out(db, settings, [agreement]))[0]


# -- the rules ------------------------------------------------------------------------------------


def _check_terms(terms: dict[str, Any]) -> None:
    """The dates and money of an agreement are consistent; each failure names its field."""
    start: date = terms["start_date"]
    end: date | None = terms["end_date"]
    if end is not None and end < start:
        raise InvalidInput("must not be before the start date", field="end_date")
    if end is None and terms["notice_months"] is None:
        raise InvalidInput("a rolling agreement (no end date) needs a notice period", field="notice_months")
    for field in ("rent_pence_per_year", "service_charge_pence_per_year", "deposit_pence"):
        if terms[field] < 0:
            raise InvalidInput("must not be below zero", field=field)
    free_start, free_end = terms["rent_free_start"], terms["rent_free_end"]
    if (free_start is None) != (free_end is None):
        missing = "rent_free_end" if free_end is None else "rent_free_start"
        raise InvalidInput("a rent-free period needs both its first and last day", field=missing)
    if free_start is not None and free_end is not None:
        if free_start < start:
            raise InvalidInput("the rent-free period must be inside the agreement", field="rent_free_start")
        if free_end < free_start:
            raise InvalidInput("must not be before the rent-free period's first day", field="rent_free_end")
        if end is not None and free_end > end:
            raise InvalidInput("the rent-free period must be inside the agreement", field="rent_free_end")
    if terms["discount_bp"] > 0 and not (terms["discount_reason"] or "").strip():
        raise InvalidInput("say why the discount is given", field="discount_reason")


def _check_break(item: BreakIn, start: date, end: date | None, field: str) -> None:
    if item.break_date <= start:
        raise InvalidInput("a break date must be after the start date", field=f"{field}.break_date")
    if end is not None and item.break_date > end:
        raise InvalidInput("a break date must not be after the end date", field=f"{field}.break_date")


def _check_review(item: ReviewIn, start: date, end: date | None, field: str) -> None:
    if item.review_date <= start:
        raise InvalidInput("a rent review must be after the start date", field=f"{field}.review_date")
    if end is not None and item.review_date > end:
        raise InvalidInput("a rent review must not be after the end date", field=f"{field}.review_date")
    if (item.uplift_bp is None) == (item.index_name is None):
        raise InvalidInput(
            "give either a fixed uplift (uplift_bp) or an index to apply by hand (index_name)",
            field=f"{field}.uplift_bp",
        )
    if item.uplift_bp is not None and item.new_rent_pence_per_year is not None:
        raise InvalidInput(
            "a fixed uplift works out the new rent itself", field=f"{field}.new_rent_pence_per_year"
        )
    if item.index_name is not None and not item.index_name.strip():
        raise InvalidInput("must not be blank", field=f"{field}.index_name")


async def _units_free(
    db: AsyncSession, unit_ids: list[int], start: date, end: date | None, except_id: int | None = None
) -> list[Unit]:
    """The units, locked; refused if any is held by another live agreement at any time in
    [start, end]. Locking the units makes two agreements for one unit take turns (PostgreSQL);
    SQLite's writers already do."""
    wanted = sorted(set(unit_ids))
    units = list(
        await db.scalars(select(Unit).where(Unit.id.in_(wanted)).order_by(Unit.id).with_for_update())
    )
    missing = sorted(set(wanted) - {u.id for u in units})
    if missing:
        raise InvalidInput(f"no unit with id {missing[0]}", field="unit_ids")
    overlap = [
        # Agreements that came into force (active, under notice, or ended: an ended one's end date
        # is the day it ended) hold their units for their dates; a draft holds nothing yet.
        Agreement.activated_on.is_not(None),
        or_(Agreement.end_date.is_(None), Agreement.end_date >= start),
        agreement_units.c.unit_id.in_(wanted),
    ]
    if end is not None:
        overlap.append(Agreement.start_date <= end)
    if except_id is not None:
        overlap.append(Agreement.id != except_id)
    clash = (
        await db.execute(
            select(Agreement.reference, Unit.name)
            .join(agreement_units, agreement_units.c.agreement_id == Agreement.id)
            .join(Unit, Unit.id == agreement_units.c.unit_id)
            .where(and_(*overlap))
            .order_by(Agreement.start_date)
            .limit(1)
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"{clash[1]} is already let under {clash[0]} for some of those dates", field="unit_ids"
        )
    return units


TERM_FIELDS = (
    "kind",
    "start_date",
    "end_date",
    "notice_months",
    "rent_pence_per_year",
    "service_charge_pence_per_year",
    "frequency",
    "rent_free_start",
    "rent_free_end",
    "discount_bp",
    "discount_reason",
    "deposit_pence",
    "permitted_use",
    "insurance_expires_on",
    "included_minutes_per_month",
)


def _snapshot(agreement: Agreement) -> dict[str, Any]:
    values = {field: getattr(agreement, field) for field in TERM_FIELDS}
    values["status"] = agreement.status
    values["unit_ids"] = sorted(u.id for u in agreement.units)
    return values


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _review_row(agreement_id: int, item: ReviewIn, rent_before: int) -> RentReview:
    new_rent = item.new_rent_pence_per_year
    if item.uplift_bp is not None:
        new_rent = uplift(rent_before, item.uplift_bp)
    return RentReview(
        agreement_id=agreement_id,
        review_date=item.review_date,
        uplift_bp=item.uplift_bp,
        index_name=item.index_name.strip() if item.index_name else None,
        new_rent_pence_per_year=new_rent,
        created_at=utcnow(),
    )


# -- writing --------------------------------------------------------------------------------------


async def create_agreement(
    db: AsyncSession, settings: Settings, actor: Identity, data: AgreementCreate, *, activate: bool = False
) -> Agreement:
    """A new agreement, as a draft. Refused, with nothing written, if its dates or money do not
    hold together, a break or review falls outside it, or a unit is let to someone else then.
    ``activate`` brings it into force in the same transaction (an agreement already signed, as
    when loading existing tenancies): the same rules, and both steps audited."""
    terms = {field: _plain(getattr(data, field)) for field in TERM_FIELDS}
    _check_terms(terms)
    for index, item in enumerate(data.breaks):
        _check_break(item, data.start_date, data.end_date, f"breaks[{index}]")
    for index, review in enumerate(data.reviews):
        _check_review(review, data.start_date, data.end_date, f"reviews[{index}]")
    if await db.get(Organisation, data.organisation_id) is None:
        raise InvalidInput("no organisation with that id", field="organisation_id")
    units = await _units_free(db, data.unit_ids, data.start_date, data.end_date)
    now = utcnow()
    agreement = Agreement(
        reference=f"NEW-{secrets.token_hex(6)}",
        organisation_id=data.organisation_id,
        status=AgreementStatus.DRAFT.value,
        deposit_kept_pence=0,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **terms,
    )
    agreement.units = units
    db.add(agreement)
    await db.flush()
    agreement.reference = f"AGR-{agreement.id:04d}"
    for item in data.breaks:
        db.add(
            AgreementBreak(
                agreement_id=agreement.id, break_date=item.break_date, notice_days=item.notice_days
            )
        )
    rent = agreement.rent_pence_per_year
    for review in sorted(data.reviews, key=lambda r: r.review_date):
        row = _review_row(agreement.id, review, rent)
        rent = row.new_rent_pence_per_year if row.new_rent_pence_per_year is not None else rent
        db.add(row)
    snapshot = _snapshot(agreement)
    snapshot["breaks"] = [[b.break_date, b.notice_days] for b in data.breaks]
    snapshot["reviews"] = [[r.review_date, r.uplift_bp, r.index_name] for r in data.reviews]
    audit.record(
        db,
        actor,
        "agreement.created",
        "tenant_agreement",
        agreement.id,
        summary=f"Drafted {agreement.reference} ({agreement.kind}) from {agreement.start_date}",
        changes={k: [None, v] for k, v in snapshot.items() if v not in (None, "", [])},
    )
    if activate:
        # The units were checked free against every agreement in force just above.
        agreement.status = AgreementStatus.ACTIVE.value
        agreement.activated_on = settings.today()
        audit.record(
            db,
            actor,
            "agreement.activated",
            "tenant_agreement",
            agreement.id,
            summary=f"Activated {agreement.reference}",
            changes={"status": ["draft", "active"]},
        )
    await db.commit()
    return await _load(db, agreement.id)


async def update_agreement(
    db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int, data: AgreementUpdate
) -> Agreement:
    """Change an agreement's terms (not an ended one's); the same rules as a new one apply."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    if agreement.status == AgreementStatus.ENDED.value:
        raise RuleViolation("an ended agreement cannot be changed", field="status")
    before = _snapshot(agreement)
    fields = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
    fields.pop("reason", None)
    terms = {field: getattr(agreement, field) for field in TERM_FIELDS}
    terms.update({k: _plain(v) for k, v in fields.items() if k in TERM_FIELDS})
    _check_terms(terms)
    start, end = terms["start_date"], terms["end_date"]
    for item in agreement.breaks:
        if item.break_date <= start or (end is not None and item.break_date > end):
            raise InvalidInput(
                f"the break on {item.break_date} would fall outside the agreement", field="end_date"
            )
    for review in agreement.reviews:
        if review.review_date <= start or (end is not None and review.review_date > end):
            raise InvalidInput(
                f"the rent review on {review.review_date} would fall outside the agreement", field="end_date"
            )
    unit_ids = fields.get("unit_ids", [u.id for u in agreement.units])
    units = await _units_free(db, unit_ids, start, end, except_id=agreement.id)
    for field, value in terms.items():
        setattr(agreement, field, value)
    agreement.units = units
    changes = audit.diff(before, _snapshot(agreement))
    if changes:
        agreement.updated_at = utcnow()
        audit.record(
            db,
            actor,
            "agreement.updated",
            "tenant_agreement",
            agreement.id,
            summary=f"Changed {agreement.reference}",
            changes=changes,
            reason=data.reason.strip(),
        )
    await db.commit()
    return await _load(db, agreement.id)


def _transition(agreement: Agreement, allowed: tuple[AgreementStatus, ...], doing: str) -> None:
    if agreement.status == AgreementStatus.ENDED.value:
        raise Conflict(f"{agreement.reference} has already ended (on {agreement.ended_on})", field="status")
    if agreement.status not in {s.value for s in allowed}:
        raise Conflict(f"a {agreement.status.replace('_', ' ')} agreement cannot be {doing}", field="status")


async def activate(db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int) -> Agreement:
    """A signed draft comes into force: its units must still be free for its whole term."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    _transition(agreement, (AgreementStatus.DRAFT,), "activated")
    await _units_free(
        db, [u.id for u in agreement.units], agreement.start_date, agreement.end_date, except_id=agreement.id
    )
    agreement.status = AgreementStatus.ACTIVE.value
    agreement.activated_on = settings.today()
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.activated",
        "tenant_agreement",
        agreement.id,
        summary=f"Activated {agreement.reference}",
        changes={"status": ["draft", "active"]},
    )
    await db.commit()
    return agreement  # nothing it loads with has changed


async def give_notice(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    agreement_id: int,
    given_on: date,
    end_date: date | None = None,
    reason: str = "",
) -> Agreement:
    """Notice to end an active agreement: it runs on until ``end_date`` (for a rolling one, by
    default the notice period after the notice is given), then ends."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    _transition(agreement, (AgreementStatus.ACTIVE,), "given notice")
    if given_on < agreement.start_date:
        raise InvalidInput("notice cannot be given before the agreement starts", field="given_on")
    if end_date is None:
        if agreement.end_date is None:
            end_date = add_months(given_on, agreement.notice_months or 0)
        else:
            end_date = agreement.end_date
    if end_date < given_on:
        raise InvalidInput("must not be before the day notice is given", field="end_date")
    if agreement.end_date is not None and end_date > agreement.end_date:
        raise InvalidInput("must not be after the agreement's own end date", field="end_date")
    if end_date < agreement.start_date:
        raise InvalidInput("must not be before the start date", field="end_date")
    before = {"status": agreement.status, "end_date": agreement.end_date, "notice_given_on": None}
    agreement.status = AgreementStatus.NOTICE_GIVEN.value
    agreement.notice_given_on = given_on
    agreement.end_date = end_date
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.notice_given",
        "tenant_agreement",
        agreement.id,
        summary=f"Notice given on {agreement.reference}: it ends on {end_date}",
        changes=audit.diff(
            before, {"status": agreement.status, "end_date": end_date, "notice_given_on": given_on}
        ),
        reason=reason.strip(),
    )
    await db.commit()
    return agreement  # nothing it loads with has changed


async def end_agreement(
    db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int, ended_on: date, reason: str
) -> Agreement:
    """End an agreement on a date, for a reason; ending it twice is refused. An agreement that had
    started stops holding its units (and being billed) after ``ended_on``."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    _transition(
        agreement, (AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.NOTICE_GIVEN), "ended"
    )
    if not reason.strip():
        raise InvalidInput("must not be blank", field="reason")
    was_draft = agreement.activated_on is None
    if not was_draft and ended_on < agreement.start_date:
        raise InvalidInput("must not be before the start date", field="ended_on")
    before = {"status": agreement.status, "end_date": agreement.end_date, "ended_on": None}
    agreement.status = AgreementStatus.ENDED.value
    agreement.ended_on = ended_on
    agreement.end_reason = reason.strip()
    if not was_draft and (agreement.end_date is None or ended_on < agreement.end_date):
        agreement.end_date = ended_on
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.ended",
        "tenant_agreement",
        agreement.id,
        summary=f"Ended {agreement.reference} on {ended_on}",
        changes=audit.diff(
            before, {"status": agreement.status, "end_date": agreement.end_date, "ended_on": ended_on}
        ),
        reason=reason.strip(),
    )
    await db.commit()
    return agreement  # nothing it loads with has changed


async def renew(
    db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int, data: RenewIn
) -> Agreement:
    """A renewal: a new draft agreement for the same tenant, units and terms, starting the day after
    the old one ends and linked to it (``renewal_of_id``). Without an end date it is rolling. The
    deposit stays held under the old agreement (said in the new one's deposit note)."""
    old = await get_agreement(db, actor, agreement_id, lock=True)
    if old.status == AgreementStatus.DRAFT.value:
        raise Conflict("a draft agreement cannot be renewed; change it instead", field="status")
    if old.end_date is None:
        raise RuleViolation(
            "a rolling agreement with no end date cannot be renewed: it simply carries on", field="end_date"
        )
    already = await db.scalar(
        select(Agreement.reference).where(
            Agreement.renewal_of_id == old.id, Agreement.status != AgreementStatus.ENDED.value
        )
    )
    if already is not None:
        raise Conflict(f"{old.reference} has already been renewed as {already}", field="renewal_of_id")
    start = old.end_date + timedelta(days=1)
    if data.end_date is not None and data.end_date < start:
        raise InvalidInput(f"must not be before the renewal starts ({start})", field="end_date")
    notice_months = data.notice_months
    if data.end_date is None and notice_months is None:
        notice_months = old.notice_months if old.notice_months is not None else DEFAULT_RENEWAL_NOTICE_MONTHS
    rent = (
        data.rent_pence_per_year if data.rent_pence_per_year is not None else rent_in_force(old, old.end_date)
    )
    created = AgreementCreate(
        organisation_id=old.organisation_id,
        kind=old.kind,  # type: ignore[arg-type]
        unit_ids=[u.id for u in old.units],
        start_date=start,
        end_date=data.end_date,
        notice_months=notice_months,
        rent_pence_per_year=rent,
        service_charge_pence_per_year=old.service_charge_pence_per_year,
        frequency=old.frequency,  # type: ignore[arg-type]
        discount_bp=old.discount_bp,
        discount_reason=old.discount_reason,
        permitted_use=old.permitted_use,
        insurance_expires_on=old.insurance_expires_on,
        included_minutes_per_month=old.included_minutes_per_month,
    )
    terms = {field: _plain(getattr(created, field)) for field in TERM_FIELDS}
    _check_terms(terms)
    units = await _units_free(db, created.unit_ids, start, data.end_date)
    now = utcnow()
    new = Agreement(
        reference=f"NEW-{secrets.token_hex(6)}",
        organisation_id=old.organisation_id,
        status=AgreementStatus.DRAFT.value,
        deposit_kept_pence=0,
        deposit_note=f"Deposit held under {old.reference}" if old.deposit_pence else None,
        renewal_of_id=old.id,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **terms,
    )
    new.units = units
    db.add(new)
    await db.flush()
    new.reference = f"AGR-{new.id:04d}"
    audit.record(
        db,
        actor,
        "agreement.renewed",
        "tenant_agreement",
        old.id,
        summary=f"Renewed {old.reference} as {new.reference} from {start}",
        changes={"renewed_as": [None, new.reference]},
    )
    audit.record(
        db,
        actor,
        "agreement.created",
        "tenant_agreement",
        new.id,
        summary=f"Drafted {new.reference}, the renewal of {old.reference}, from {start}",
        changes={
            k: [None, v]
            for k, v in {**_snapshot(new), "renewal_of_id": old.id}.items()
            if v not in (None, "", [])
        },
    )
    await db.commit()
    return await _load(db, new.id)


async def add_break(
    db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int, data: BreakIn
) -> Agreement:
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    if agreement.status == AgreementStatus.ENDED.value:
        raise RuleViolation("an ended agreement cannot be changed", field="status")
    _check_break(data, agreement.start_date, agreement.end_date, "break")
    # The field is the request's own: a break date after the end is this body's break_date.
    row = AgreementBreak(
        agreement_id=agreement.id,
        break_date=data.break_date,
        notice_days=data.notice_days,
        created_at=utcnow(),
    )
    db.add(row)
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.break_added",
        "tenant_agreement",
        agreement.id,
        summary=f"Break date {data.break_date} on {agreement.reference} "
        f"(notice by {last_notice_day(data.break_date, data.notice_days)})",
        changes={"break": [None, [data.break_date, data.notice_days]]},
    )
    await db.commit()
    return await _load(db, agreement.id)


async def add_review(
    db: AsyncSession, settings: Settings, actor: Identity, agreement_id: int, data: ReviewIn
) -> Agreement:
    """A rent review: a fixed uplift works out the new rent from the rent in force the day before."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    if agreement.status == AgreementStatus.ENDED.value:
        raise RuleViolation("an ended agreement cannot be changed", field="status")
    _check_review(data, agreement.start_date, agreement.end_date, "review")
    row = _review_row(agreement.id, data, rent_in_force(agreement, data.review_date - timedelta(days=1)))
    db.add(row)
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.review_added",
        "tenant_agreement",
        agreement.id,
        summary=f"Rent review {data.review_date} on {agreement.reference}",
        changes={
            "review": [None, [data.review_date, data.uplift_bp, data.index_name, row.new_rent_pence_per_year]]
        },
    )
    await db.commit()
    return await _load(db, agreement.id)


# -- the signed document ----------------------------------------------------------------------------


def documents_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "agreements"


def document_path(settings: Settings, agreement: Agreement) -> Path | None:
    """Where the agreement's signed PDF is kept (None: none uploaded)."""
    if not agreement.document_stored_name:
        return None
    return documents_dir(settings) / agreement.document_stored_name


def _clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')[:200].strip()
    if not name:
        name = "agreement.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return name


def check_document(settings: Settings, content: bytes) -> None:
    """A signed agreement is a PDF (it starts ``%PDF-``) no larger than the hub's limit."""
    if len(content) > settings.agreement_document_max_bytes:
        raise DocumentTooLarge(
            f"must be at most {settings.agreement_document_max_bytes} bytes", field="document"
        )
    if not content.startswith(PDF_MAGIC):
        raise InvalidInput("must be a PDF file", field="document")


async def upload_document(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    agreement_id: int,
    content: bytes,
    filename: str | None,
) -> Agreement:
    """Keep the signed PDF under the data directory with a random name. A replaced document's file
    stays where it was (nothing deleted); the audit log names it."""
    agreement = await get_agreement(db, actor, agreement_id, lock=True)
    check_document(settings, content)
    folder = documents_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.pdf"
    partial = folder / f".{stored}.part"
    partial.write_bytes(content)
    partial.replace(folder / stored)
    before = {"document": agreement.document_stored_name, "filename": agreement.document_filename}
    agreement.document_stored_name = stored
    agreement.document_filename = _clean_filename(filename)
    agreement.document_size = len(content)
    agreement.document_uploaded_at = utcnow()
    agreement.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "agreement.document_uploaded",
        "tenant_agreement",
        agreement.id,
        summary=f"Signed document for {agreement.reference}: {agreement.document_filename}",
        changes=audit.diff(before, {"document": stored, "filename": agreement.document_filename}),
    )
    try:
        await db.commit()
    except BaseException:
        (folder / stored).unlink(missing_ok=True)
        raise
    return await _load(db, agreement.id)


async def document_for(
    db: AsyncSession, settings: Settings, identity: Identity, agreement_id: int
) -> tuple[Path, str]:
    """The PDF's path and file name, for staff or the agreement's own tenant (others: 404)."""
    agreement = await get_agreement(db, identity, agreement_id)
    path = document_path(settings, agreement)
    if path is None or not path.is_file():
        raise NotFound("That agreement has no signed document yet.")
    return path, agreement.document_filename or "agreement.pdf"


async def count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Agreement)) or 0)
