"""Charges: everything billable, posted by the modules (through their charge sources: a hire
fee, a cancellation fee, rent) or by hand. A charge waits, ``open``, until an invoice gathers it.

Modules post through :func:`post_for_source`: they say what a thing should cost now, and the
charges follow — an open charge is cancelled and re-posted, an invoiced one is corrected by an
adjustment charge, so nothing already invoiced is ever rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity
from hub.billing import rules
from hub.billing.models import Charge, ChargeStatus, Invoice
from hub.billing.schemas import ChargeCreate, ChargeOut, ChargePage
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import Organisation, Role
from hub.modules import Registry
from hub.money import vat_pence
from hub.queries import get_or_404, page_of
from hub.services import audit


@dataclass(frozen=True)
class Posting:
    """What a source says one of its charges should now be (``net_pence`` 0: nothing)."""

    source_key: str  # ties repeated postings for one thing together, e.g. "<type>:<id>:<part>"
    source_type: str
    source_id: str
    organisation_id: int
    description: str
    supply_date: date
    net_pence: int
    vat_rate_bp: int
    stream: str  # an income stream's code, as a module declares it (hub.modules.IncomeStream)


def charge_out(charge: Charge, organisation: str = "", invoice_number: str | None = None) -> ChargeOut:
    return ChargeOut(
        id=charge.id,
        organisation_id=charge.organisation_id,
        organisation=organisation,
        description=charge.description,
        quantity=charge.quantity,
        supply_date=charge.supply_date,
        net_pence=charge.net_pence,
        vat_rate_bp=charge.vat_rate_bp,
        vat_pence=charge.vat_pence,
        gross_pence=charge.net_pence + charge.vat_pence,
        stream=charge.stream,
        source_type=charge.source_type,
        source_id=charge.source_id,
        status=charge.status,
        invoice_id=charge.invoice_id,
        created_at=charge.created_at,
        cancel_reason=charge.cancel_reason,
        invoice_number=invoice_number,
    )


def _new_charge(actor: Identity, posting: Posting, net_pence: int, description: str) -> Charge:
    return Charge(
        organisation_id=posting.organisation_id,
        description=description[:300],
        quantity=1,
        supply_date=posting.supply_date,
        net_pence=net_pence,
        vat_rate_bp=posting.vat_rate_bp,
        vat_pence=vat_pence(net_pence, posting.vat_rate_bp),
        stream=posting.stream,
        source_type=posting.source_type,
        source_id=posting.source_id,
        source_key=posting.source_key,
        status=ChargeStatus.OPEN.value,
        created_by_id=actor.user_id,
        created_at=utcnow(),
        cancel_reason="",
    )


def _cancel(charge: Charge, actor: Identity, reason: str) -> None:
    charge.status = ChargeStatus.CANCELLED.value
    charge.cancelled_at = utcnow()
    charge.cancelled_by_id = actor.user_id
    charge.cancel_reason = reason


async def post_for_source(db: AsyncSession, actor: Identity, postings: list[Posting], reason: str) -> None:
    """Bring each source's charges to what it now says it costs, in the caller's transaction.

    Open charges for the source are cancelled (with ``reason``) and one is posted for the new
    amount less whatever is already invoiced; an invoiced charge is never touched, so a price cut
    after invoicing becomes a negative adjustment on the next invoice. One query for the lot.
    """
    if not postings:
        return
    keys = [p.source_key for p in postings]
    existing: dict[str, list[Charge]] = {}
    for start in range(0, len(keys), 500):
        rows = await db.scalars(
            select(Charge).where(
                Charge.source_key.in_(keys[start : start + 500]),
                Charge.status != ChargeStatus.CANCELLED.value,
            )
        )
        for charge in rows:
            existing.setdefault(charge.source_key or "", []).append(charge)
    for posting in postings:
        charges = existing.get(posting.source_key, [])
        open_charges = [c for c in charges if c.status == ChargeStatus.OPEN.value]
        invoiced_net = sum(c.net_pence for c in charges if c.status == ChargeStatus.INVOICED.value)
        same = (
            len(open_charges) == 1
            and open_charges[0].net_pence + invoiced_net == posting.net_pence
            and open_charges[0].description == posting.description
            and open_charges[0].supply_date == posting.supply_date
            and open_charges[0].organisation_id == posting.organisation_id
        ) or (not open_charges and invoiced_net == posting.net_pence)
        if same:
            continue
        for charge in open_charges:
            _cancel(charge, actor, reason)
        difference = posting.net_pence - invoiced_net
        if difference == 0:
            continue
        description = posting.description if invoiced_net == 0 else f"Adjustment: {posting.description}"
        db.add(_new_charge(actor, posting, difference, description))
    await db.flush()


async def _organisation(db: AsyncSession, organisation_id: int) -> Organisation:
    org = await db.get(Organisation, organisation_id) if is_valid_id(organisation_id) else None
    if org is None:
        raise InvalidInput("no organisation has that id", field="organisation_id")
    return org


async def create_manual(
    db: AsyncSession,
    actor: Identity,
    data: ChargeCreate,
    *,
    registry: Registry | None = None,
    commit: bool = True,
) -> Charge:
    """Reception adds a charge by hand (extra cleaning, a lost key), earning into one of the
    income streams the modules declare: ``registry`` (the app's) checks it, and the API and the
    pages always pass it."""
    if registry is not None:
        rules.check_stream(registry, data.stream)
    org = await _organisation(db, data.organisation_id)
    if not org.active:
        raise InvalidInput("that organisation is archived; restore it first", field="organisation_id")
    description = data.description.strip()
    if not description:
        raise InvalidInput("say what the charge is for", field="description")
    charge = Charge(
        organisation_id=org.id,
        description=description,
        quantity=data.quantity,
        supply_date=data.supply_date,
        net_pence=data.net_pence,
        vat_rate_bp=data.vat_rate_bp,
        vat_pence=vat_pence(data.net_pence, data.vat_rate_bp),
        stream=data.stream,
        source_type="manual",
        source_id=None,
        source_key=None,
        status=ChargeStatus.OPEN.value,
        created_by_id=actor.user_id,
        created_at=utcnow(),
        cancel_reason="",
    )
    db.add(charge)
    await db.flush()
    audit.record(
        db,
        actor,
        "charge.created",
        "charge",
        charge.id,
        summary=f"{description} for {org.name}",
        changes={"net_pence": [None, charge.net_pence], "vat_pence": [None, charge.vat_pence]},
    )
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return charge


async def get_charge(db: AsyncSession, viewer: Identity, charge_id: int) -> Charge:
    charge = await get_or_404(db, Charge, charge_id, "That charge")
    viewer.require_organisation(charge.organisation_id, "That charge")
    return charge


async def cancel_charge(db: AsyncSession, actor: Identity, charge_id: int, reason: str) -> Charge:
    """Only an open charge can be cancelled: an invoiced one is corrected by a credit note."""
    charge = await get_charge(db, actor, charge_id)
    if actor.role not in STAFF:
        raise NotFound("That charge was not found.")
    if charge.status != ChargeStatus.OPEN.value:
        raise Conflict(
            f"this charge is {charge.status}; an invoiced charge is corrected with a credit note",
            field="status",
        )
    _cancel(charge, actor, reason.strip())
    audit.record(
        db,
        actor,
        "charge.cancelled",
        "charge",
        charge.id,
        summary=f"Cancelled charge {charge.description}",
        changes={"status": ["open", "cancelled"]},
        reason=reason.strip(),
    )
    await db.commit()
    return charge


async def list_charges(
    db: AsyncSession,
    viewer: Identity,
    *,
    organisation_id: int | None = None,
    status: str | None = None,
    source: tuple[str, str] | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ChargePage:
    """Charges the viewer may see, newest supply first, each with its invoice's number."""
    conditions = []
    if source is not None:
        conditions += [Charge.source_type == source[0], Charge.source_id == source[1]]
    if viewer.role == Role.TENANT:
        conditions.append(Charge.organisation_id == viewer.organisation_id)
    if organisation_id is not None:
        # Another organisation asked about by a tenant answers 404, as a single object would.
        viewer.require_organisation(organisation_id, "That organisation")
        conditions.append(Charge.organisation_id == organisation_id)
    if status:
        conditions.append(Charge.status == status)
    found = await page_of(
        db,
        select(Charge).where(*conditions).order_by(Charge.supply_date.desc(), Charge.id.desc()),
        page=page,
        per_page=per_page,
    )
    rows: list[Charge] = found.rows
    names: dict[int, str] = {}
    numbers: dict[int, str | None] = {}
    if rows:
        org_ids = {c.organisation_id for c in rows}
        names = dict(
            (
                await db.execute(
                    select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
                )
            ).all()
        )
        invoice_ids = {c.invoice_id for c in rows if c.invoice_id is not None}
        if invoice_ids:
            numbers = dict(
                (
                    await db.execute(
                        select(Invoice.id, Invoice.number_text).where(Invoice.id.in_(invoice_ids))
                    )
                ).all()
            )
    return ChargePage(
        items=[charge_out(c, names.get(c.organisation_id, ""), numbers.get(c.invoice_id or 0)) for c in rows],
        total=found.total,
        page=page,
        per_page=per_page,
    )


async def charges_for_source(
    db: AsyncSession, viewer: Identity, source_type: str, source_id: str
) -> list[ChargeOut]:
    """Everything one thing (of a module's charge source) has been charged, cancelled charges
    included: what the module's page shows beside the thing."""
    page = await list_charges(db, viewer, source=(source_type, source_id), per_page=200)
    return page.items
