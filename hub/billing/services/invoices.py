"""Invoices and credit notes: gather charges, number them gap-free, never change them once issued.

A number is taken when a document is issued, by one UPDATE on its series row inside the issuing
transaction: PostgreSQL holds that row's lock until commit and SQLite's writer holds the
database, so concurrent issues queue for the next number, and a rolled-back issue gives its
number back — there are no gaps to explain. Drafts have no number; a voided draft is kept.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from hub.auth import STAFF, Identity
from hub.billing import rules
from hub.billing.models import (
    Charge,
    ChargeStatus,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    PaymentAllocation,
)
from hub.billing.schemas import (
    BillingRunResult,
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePage,
    InvoiceSummary,
)
from hub.billing.services import ledger, mailing
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.models import Organisation, Role
from hub.modules import Registry
from hub.money import format_pence, vat_pence
from hub.queries import get_or_404, page_of
from hub.services import audit
from hub.text import search_term

WHAT = "That invoice"


def number_text(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def is_overdue(invoice: Invoice, on: date) -> bool:
    return rules.is_overdue(invoice.kind, invoice.status, invoice.due_date, invoice.outstanding_pence, on)


def summary_out(invoice: Invoice, on: date) -> InvoiceSummary:
    return InvoiceSummary(
        id=invoice.id,
        kind=invoice.kind,
        status=invoice.status,
        number=invoice.number_text,
        organisation_id=invoice.organisation_id,
        customer_name=invoice.customer_name,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        gross_pence=invoice.gross_pence,
        paid_pence=invoice.paid_pence,
        credited_pence=invoice.credited_pence,
        outstanding_pence=invoice.outstanding_pence,
        overdue=is_overdue(invoice, on),
    )


async def invoice_out(db: AsyncSession, invoice: Invoice, settings: Settings) -> InvoiceOut:
    original_number = None
    if invoice.original_invoice_id is not None:
        original_number = await db.scalar(
            select(Invoice.number_text).where(Invoice.id == invoice.original_invoice_id)
        )
    credit_notes = list(
        await db.scalars(
            select(Invoice).where(Invoice.original_invoice_id == invoice.id).order_by(Invoice.id)
        )
    )
    credited_by_line: dict[int, int] = defaultdict(int)
    for note in credit_notes:
        for line in note.lines:
            if line.credits_line_id is not None:
                credited_by_line[line.credits_line_id] += line.net_pence
    return InvoiceOut(
        id=invoice.id,
        kind=invoice.kind,
        status=invoice.status,
        number=invoice.number_text,
        organisation_id=invoice.organisation_id,
        customer_name=invoice.customer_name,
        customer_address=[line for line in invoice.customer_address.split("\n") if line],
        customer_email=invoice.customer_email,
        supplier_name=invoice.supplier_name,
        supplier_address=[line for line in invoice.supplier_address.split("\n") if line],
        supplier_vat_number=invoice.supplier_vat_number,
        supplier_charity_number=invoice.supplier_charity_number,
        issue_date=invoice.issue_date,
        tax_point=invoice.tax_point,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        payment_instructions=invoice.payment_instructions,
        net_pence=invoice.net_pence,
        vat_pence=invoice.vat_pence,
        gross_pence=invoice.gross_pence,
        paid_pence=invoice.paid_pence,
        credited_pence=invoice.credited_pence,
        outstanding_pence=invoice.outstanding_pence,
        overdue=is_overdue(invoice, settings.today()),
        original_invoice_id=invoice.original_invoice_id,
        original_number=original_number,
        reason=invoice.reason,
        notes=invoice.notes,
        void_reason=invoice.void_reason,
        created_at=invoice.created_at,
        issued_at=invoice.issued_at,
        lines=[
            InvoiceLineOut(
                id=line.id,
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                supply_date=line.supply_date,
                net_pence=line.net_pence,
                vat_rate_bp=line.vat_rate_bp,
                vat_pence=line.vat_pence,
                gross_pence=line.gross_pence,
                stream=line.stream,
                charge_id=line.charge_id,
                credits_line_id=line.credits_line_id,
                credited_net_pence=credited_by_line.get(line.id, 0),
            )
            for line in invoice.lines
        ],
        credit_note_ids=[note.id for note in credit_notes],
        credit_notes=[summary_out(note, settings.today()) for note in credit_notes],
    )


def _address(org: Organisation) -> str:
    return "\n".join(x for x in (org.address_line1, org.address_line2, org.town, org.postcode) if x)


def _copy_parties(invoice: Invoice, org: Organisation, settings: Settings) -> None:
    invoice.customer_name = org.name
    invoice.customer_address = _address(org)
    invoice.customer_email = org.billing_email
    invoice.supplier_name = settings.invoice_supplier_name
    invoice.supplier_address = "\n".join(settings.supplier_address)
    invoice.supplier_vat_number = settings.vat_number
    invoice.supplier_charity_number = settings.charity_number
    invoice.payment_terms_days = settings.payment_terms_days
    invoice.payment_instructions = settings.payment_instructions


def _totals(invoice: Invoice) -> None:
    invoice.net_pence = sum(line.net_pence for line in invoice.lines)
    invoice.vat_pence = sum(line.vat_pence for line in invoice.lines)
    invoice.gross_pence = invoice.net_pence + invoice.vat_pence


async def ensure_series(db: AsyncSession, prefix: str, kind: DocumentKind) -> None:
    """Make the series row if this is its first document (safe when two do it at once)."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    await db.execute(
        insert(InvoiceSeries)
        .values(prefix=prefix, kind=kind.value, last_number=0)
        .on_conflict_do_nothing(index_elements=["prefix"])
    )


async def next_number(db: AsyncSession, prefix: str) -> int:
    """The series' next number, held (row-locked) by this transaction until it commits."""
    number = await db.scalar(
        update(InvoiceSeries)
        .where(InvoiceSeries.prefix == prefix)
        .values(last_number=InvoiceSeries.last_number + 1)
        .returning(InvoiceSeries.last_number)
    )
    if number is None:
        raise InvalidInput(f"there is no invoice series {prefix!r}", field="series")
    return int(number)


async def _organisation(db: AsyncSession, organisation_id: int) -> Organisation:
    org = await db.get(Organisation, organisation_id) if is_valid_id(organisation_id) else None
    if org is None:
        raise InvalidInput("no organisation has that id", field="organisation_id")
    return org


def _check_source(data: InvoiceCreate, registry: Registry | None) -> None:
    """Both ``source_type`` and ``source_id``, or neither; the type one a module declares."""
    if data.source_type is None and data.source_id is None:
        return
    if data.source_type is None:
        raise InvalidInput("say what kind of thing source_id is (source_type)", field="source_type")
    if data.source_id is None:
        raise InvalidInput("say which one (source_id) of the source type", field="source_id")
    if registry is not None:
        rules.check_source_type(registry, data.source_type)


async def _open_charges(
    db: AsyncSession, org: Organisation, data: InvoiceCreate, registry: Registry | None
) -> list[Charge]:
    query = select(Charge).where(Charge.organisation_id == org.id, Charge.status == ChargeStatus.OPEN.value)
    if data.charge_ids is not None:
        wanted = set(data.charge_ids)
        if not wanted:
            raise InvalidInput("choose at least one charge", field="charge_ids")
        query = query.where(Charge.id.in_(wanted))
    if data.source_type is not None and data.source_id is not None:
        query = query.where(Charge.source_type == data.source_type, Charge.source_id == data.source_id)
    if data.supplied_up_to is not None:
        query = query.where(Charge.supply_date <= data.supplied_up_to)
    # Lock the charges (PostgreSQL) so two invoices cannot both take one; SQLite's writer already
    # holds the database.
    charges = list(
        await db.scalars(
            query.order_by(Charge.supply_date, Charge.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if data.charge_ids is not None and len(charges) != len(set(data.charge_ids)):
        found = {c.id for c in charges}
        missing = sorted(set(data.charge_ids) - found)
        raise InvalidInput(
            f"charges {', '.join(map(str, missing))} are not open charges of {org.name}", field="charge_ids"
        )
    if not charges:
        raise RuleViolation(
            f"{org.name} has no uninvoiced charges to put on an invoice"
            + (f" for that {_source_name(data.source_type, registry)}" if data.source_type else ""),
            field="charge_ids" if data.charge_ids is not None else "organisation_id",
        )
    return charges


def _source_name(source_type: str, registry: Registry | None) -> str:
    label = registry.source_label(source_type) if registry else source_type.replace("_", " ")
    return label.lower()


async def create_invoice(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    data: InvoiceCreate,
    *,
    registry: Registry | None = None,
    commit: bool = True,
    on: date | None = None,
) -> Invoice:
    """An invoice for open charges; issued at once unless ``issue`` is false (a draft).

    ``registry`` (the app's) checks a ``source_type`` is one a module declares: the API and the
    pages always pass it. ``on`` backdates the issue (loading history, the demo); people always
    issue today."""
    _check_source(data, registry)
    org = await _organisation(db, data.organisation_id)
    prefix = data.series or settings.invoice_prefix
    if prefix == settings.credit_note_prefix:
        raise InvalidInput("that series is for credit notes", field="series")
    charges = await _open_charges(db, org, data, registry)
    gross = sum(c.net_pence + c.vat_pence for c in charges)
    if gross <= 0:
        raise RuleViolation(
            f"these charges add up to {format_pence(gross)}; an invoice must be for more than nothing "
            "(a credit is given with a credit note)",
            field="charge_ids",
        )
    await ensure_series(db, prefix, DocumentKind.INVOICE)
    invoice = Invoice(
        kind=DocumentKind.INVOICE.value,
        status=InvoiceStatus.DRAFT.value,
        series_prefix=prefix,
        organisation_id=org.id,
        notes=data.notes.strip(),
        created_by_id=actor.user_id,
        created_at=utcnow(),
        paid_pence=0,
        credited_pence=0,
        reason="",
        void_reason="",
        lines=[
            InvoiceLine(
                position=index + 1,
                charge_id=charge.id,
                description=charge.description,
                quantity=charge.quantity,
                supply_date=charge.supply_date,
                net_pence=charge.net_pence,
                vat_rate_bp=charge.vat_rate_bp,
                vat_pence=charge.vat_pence,
                gross_pence=charge.net_pence + charge.vat_pence,
                stream=charge.stream,
            )
            for index, charge in enumerate(charges)
        ],
    )
    _copy_parties(invoice, org, settings)
    _totals(invoice)
    db.add(invoice)
    await db.flush()
    for charge in charges:
        charge.status = ChargeStatus.INVOICED.value
        charge.invoice_id = invoice.id
    audit.record(
        db,
        actor,
        "invoice.drafted",
        "invoice",
        invoice.id,
        summary=f"Draft invoice for {org.name}, {format_pence(invoice.gross_pence)}",
        changes={"gross_pence": [None, invoice.gross_pence], "charges": [None, [c.id for c in charges]]},
    )
    if data.issue:
        await _issue(db, settings, actor, invoice, org, on=on)
        # The message is written with the invoice: it exists exactly when the issue commits.
        await _queue_mail(db, settings, actor, invoice, org)
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return invoice


async def _issue(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    invoice: Invoice,
    org: Organisation,
    *,
    on: date | None = None,
) -> None:
    if not settings.supplier_address:
        raise RuleViolation(
            "the hub's own address is not set (HUB_SUPPLIER_ADDRESS): a VAT invoice must show it",
            field="supplier_address",
        )
    issued_on = on or settings.today()
    invoice.number = await next_number(db, invoice.series_prefix)
    invoice.number_text = number_text(invoice.series_prefix, invoice.number)
    if invoice.kind == DocumentKind.INVOICE.value:
        _copy_parties(invoice, org, settings)  # as the organisation is on the day of issue
    invoice.status = InvoiceStatus.ISSUED.value
    invoice.issue_date = issued_on
    # The invoice date is the tax point: services already supplied are invoiced within days of
    # supply, and hire invoiced in advance takes the invoice date anyway.
    invoice.tax_point = issued_on
    invoice.due_date = (
        issued_on + timedelta(days=invoice.payment_terms_days)
        if invoice.kind == DocumentKind.INVOICE.value
        else None
    )
    invoice.issued_at = utcnow()
    invoice.issued_by_id = actor.user_id
    await db.flush()
    ledger.post_document(db, invoice)
    audit.record(
        db,
        actor,
        f"{invoice.kind}.issued",
        "invoice",
        invoice.id,
        summary=f"{invoice.number_text} to {invoice.customer_name}, {format_pence(invoice.gross_pence)}",
        changes={"status": ["draft", "issued"], "number": [None, invoice.number_text]},
    )


async def _queue_mail(
    db: AsyncSession, settings: Settings, actor: Identity, document: Invoice, org: Organisation
) -> None:
    """The issued document's message, written with it (it exists exactly when the issue commits)."""
    await mailing.queue_document(
        db, settings, actor, document, org, lambda: invoice_out(db, document, settings)
    )


async def get_invoice(db: AsyncSession, viewer: Identity, invoice_id: int, *, lock: bool = False) -> Invoice:
    """An invoice the viewer may see: another organisation's answers 404, and tenants never see
    drafts (they are not invoices yet)."""
    if viewer.role not in STAFF and viewer.role not in (Role.TRUSTEE, Role.TENANT):
        raise NotFound(f"{WHAT} was not found.")
    options = {"with_for_update": True, "populate_existing": True} if lock else {}
    invoice = await get_or_404(db, Invoice, invoice_id, WHAT, **options)
    viewer.require_organisation(invoice.organisation_id, WHAT)
    # A tenant sees issued documents only: a draft (or a voided one) was never sent to them.
    if viewer.role == Role.TENANT and invoice.number is None:
        raise NotFound(f"{WHAT} was not found.")
    return invoice


async def issue_invoice(
    db: AsyncSession, settings: Settings, actor: Identity, invoice_id: int, *, commit: bool = True
) -> Invoice:
    invoice = await get_invoice(db, actor, invoice_id, lock=True)
    if invoice.status != InvoiceStatus.DRAFT.value:
        raise Conflict(f"only a draft can be issued; this one is {invoice.status}", field="status")
    org = await _organisation(db, invoice.organisation_id)
    await _issue(db, settings, actor, invoice, org)
    await _queue_mail(db, settings, actor, invoice, org)
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return invoice


async def void_draft(db: AsyncSession, actor: Identity, invoice_id: int, reason: str) -> Invoice:
    """A draft is voided (kept, never deleted) and its charges go back to waiting. An issued
    invoice is corrected with a credit note instead."""
    invoice = await get_invoice(db, actor, invoice_id, lock=True)
    if invoice.status != InvoiceStatus.DRAFT.value:
        raise Conflict(
            f"this invoice is {invoice.status}: an issued invoice is corrected with a credit note",
            field="status",
        )
    invoice.status = InvoiceStatus.VOID.value
    invoice.voided_at = utcnow()
    invoice.voided_by_id = actor.user_id
    invoice.void_reason = reason.strip()
    charges = await db.scalars(select(Charge).where(Charge.invoice_id == invoice.id))
    for charge in charges:
        charge.status = ChargeStatus.OPEN.value
        charge.invoice_id = None
    audit.record(
        db,
        actor,
        "invoice.voided",
        "invoice",
        invoice.id,
        summary=f"Voided draft invoice for {invoice.customer_name}",
        changes={"status": ["draft", "void"]},
        reason=invoice.void_reason,
    )
    await db.commit()
    return invoice


async def release_excess(db: AsyncSession, actor: Identity, invoice: Invoice) -> None:
    """After a credit, money allocated beyond what is still due goes back to the payments it
    came from, as the organisation's credit (newest allocations first)."""
    excess = invoice.paid_pence - max(invoice.gross_pence - invoice.credited_pence, 0)
    if excess <= 0:
        return
    rows = (
        await db.execute(
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_pence))
            .where(PaymentAllocation.invoice_id == invoice.id)
            .group_by(PaymentAllocation.payment_id)
            .order_by(PaymentAllocation.payment_id.desc())
        )
    ).all()
    for payment_id, amount in rows:
        take = min(int(amount), excess)
        if take <= 0:
            continue
        db.add(
            PaymentAllocation(
                payment_id=payment_id,
                invoice_id=invoice.id,
                amount_pence=-take,
                created_at=utcnow(),
                created_by_id=actor.user_id,
            )
        )
        invoice.paid_pence -= take
        excess -= take
        if excess == 0:
            break


def credit_vat_pence(line: InvoiceLine, credited_net: int, credited_vat: int, net: int) -> int:
    """The VAT a credit of ``net`` more of ``line`` carries, given what is credited already.

    VAT is taken on the running total: ``vat(credited so far + net) − vat(credited so far)``, so
    the VAT credited after any sequence of notes is the VAT of the net credited so far, and
    exactly the line's VAT once the line is fully credited — never more. (Notes written before
    this rule may have credited a penny more or less; the cap and the last note square it.)
    """
    total_net = credited_net + net
    if total_net >= line.net_pence:
        target = line.vat_pence
    else:
        target = min(vat_pence(total_net, line.vat_rate_bp), line.vat_pence)
    return max(target - credited_vat, 0)


async def create_credit_note(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    invoice_id: int,
    data: CreditNoteCreate,
    *,
    on: date | None = None,
    commit: bool = True,
) -> Invoice:
    """A credit note against an issued invoice, whole or per line; never more than was invoiced.

    Each line's VAT is taken on the running total credited (:func:`credit_vat_pence`), so any
    sequence of partial credits credits exactly the line's VAT once the line is fully credited."""
    original = await get_invoice(db, actor, invoice_id, lock=True)
    if original.kind != DocumentKind.INVOICE.value:
        raise RuleViolation("a credit note cannot itself be credited", field="invoice_id")
    if original.status in rules.UNISSUED_STATUSES:
        raise Conflict(
            f"this invoice is {original.status}; only an issued invoice is credited", field="status"
        )
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("say why it is credited", field="reason")
    already: dict[int, int] = defaultdict(int)
    already_vat: dict[int, int] = defaultdict(int)
    for note_line in await db.scalars(
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.original_invoice_id == original.id)
    ):
        if note_line.credits_line_id is not None:
            already[note_line.credits_line_id] += note_line.net_pence
            already_vat[note_line.credits_line_id] += note_line.vat_pence
    lines_by_id = {line.id: line for line in original.lines}
    wanted: list[tuple[InvoiceLine, int]] = []
    if data.lines is None:
        wanted = [
            (line, line.net_pence - already[line.id])
            for line in original.lines
            if line.net_pence - already[line.id] > 0
        ]
        if not wanted:
            raise Conflict("this invoice has already been credited in full", field="lines")
    else:
        if not data.lines:
            raise InvalidInput("choose at least one line to credit", field="lines")
        seen: set[int] = set()
        for index, item in enumerate(data.lines):
            line = lines_by_id.get(item.line_id)
            if line is None:
                raise InvalidInput("that line is not on this invoice", field=f"lines[{index}].line_id")
            if item.line_id in seen:
                raise InvalidInput("each line may appear once", field=f"lines[{index}].line_id")
            seen.add(item.line_id)
            left = line.net_pence - already[line.id]
            if item.net_pence > left:
                raise RuleViolation(
                    f"only {format_pence(max(left, 0))} of this line is left to credit",
                    field=f"lines[{index}].net_pence",
                )
            wanted.append((line, item.net_pence))
    note_prefix = settings.credit_note_prefix
    await ensure_series(db, note_prefix, DocumentKind.CREDIT_NOTE)
    note = Invoice(
        kind=DocumentKind.CREDIT_NOTE.value,
        status=InvoiceStatus.DRAFT.value,
        series_prefix=note_prefix,
        organisation_id=original.organisation_id,
        # A credit note names the customer as the invoice did.
        customer_name=original.customer_name,
        customer_address=original.customer_address,
        customer_email=original.customer_email,
        supplier_name=original.supplier_name,
        supplier_address=original.supplier_address,
        supplier_vat_number=original.supplier_vat_number,
        supplier_charity_number=original.supplier_charity_number,
        payment_terms_days=original.payment_terms_days,
        payment_instructions="",
        original_invoice_id=original.id,
        reason=reason,
        notes="",
        void_reason="",
        paid_pence=0,
        credited_pence=0,
        created_by_id=actor.user_id,
        created_at=utcnow(),
        lines=[],
    )
    for position, (line, net) in enumerate(wanted, start=1):
        vat = credit_vat_pence(line, already[line.id], already_vat[line.id], net)
        note.lines.append(
            InvoiceLine(
                position=position,
                credits_line_id=line.id,
                description=line.description,
                quantity=line.quantity,
                supply_date=line.supply_date,
                net_pence=net,
                vat_rate_bp=line.vat_rate_bp,
                vat_pence=vat,
                gross_pence=net + vat,
                stream=line.stream,
            )
        )
    _totals(note)
    db.add(note)
    await db.flush()
    org = await _organisation(db, original.organisation_id)
    await _issue(db, settings, actor, note, org, on=on)
    original.credited_pence += note.gross_pence
    await release_excess(db, actor, original)
    previous = original.status
    original.status = rules.invoice_status(original)
    audit.record(
        db,
        actor,
        "invoice.credited",
        "invoice",
        original.id,
        summary=f"{note.number_text} credits {format_pence(note.gross_pence)} of {original.number_text}",
        changes={
            "credited_pence": [original.credited_pence - note.gross_pence, original.credited_pence],
            "status": [previous, original.status],
        },
        reason=reason,
    )
    await db.flush()
    await _queue_mail(db, settings, actor, note, org)
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return note


async def list_invoices(
    db: AsyncSession,
    settings: Settings,
    viewer: Identity,
    *,
    status: str | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    overdue: bool = False,
    search: str = "",
    page: int = 1,
    per_page: int = 50,
) -> InvoicePage:
    on = settings.today()
    conditions: list[Any] = []
    if viewer.role == Role.TENANT:
        conditions.append(Invoice.organisation_id == viewer.organisation_id)
        conditions.append(Invoice.number.is_not(None))
    if organisation_id is not None:
        # Another organisation asked about by a tenant answers 404, as a single object would.
        viewer.require_organisation(organisation_id, "That organisation")
        conditions.append(Invoice.organisation_id == organisation_id)
    if status:
        conditions.append(Invoice.status == status)
    if kind:
        conditions.append(Invoice.kind == kind)
    if overdue:
        conditions.append(rules.overdue_clause(on))
    search = search_term(search)[:100].lower()
    if search:
        conditions.append(
            or_(
                func.lower(Invoice.number_text).contains(search, autoescape=True),
                func.lower(Invoice.customer_name).contains(search, autoescape=True),
            )
        )
    found = await page_of(
        db,
        select(Invoice)
        .options(raiseload(Invoice.lines))  # a list never shows lines: do not load them
        .where(*conditions)
        .order_by(Invoice.created_at.desc(), Invoice.id.desc()),
        page=page,
        per_page=per_page,
    )
    return InvoicePage(
        items=[summary_out(i, on) for i in found.rows], total=found.total, page=page, per_page=per_page
    )


def month_bounds(month: str) -> tuple[date, date]:
    """``2026-11`` → first and last day of that month."""
    try:
        year_text, month_text = month.split("-")
        year, number = int(year_text), int(month_text)
        first = date(year, number, 1)
    except ValueError as exc:
        raise InvalidInput(f"expected a month such as 2026-11, got {month!r}", field="month") from exc
    if len(year_text) != 4 or len(month_text) != 2:
        raise InvalidInput(f"expected a month such as 2026-11, got {month!r}", field="month")
    return first, date(year, number, calendar.monthrange(year, number)[1])


# Modules that charge by the period (tenants' rent and service charges) provide, under this name
# (``hub.modules.Module.provides``), ``async def post(db, settings, actor, first, last) -> list[str]``:
# it posts (through :func:`hub.billing.post_for_source`, committing its own transactions) every
# charge for the periods its rules bill in the month ``first``..``last``, once however many runs
# meet them, and answers a note per thing done or passed over. The billing run calls each before
# it invoices, so what they post lands on the month's invoices.
PERIODIC_CHARGES = "billing.periodic_charges"

PeriodicChargesProvider = Callable[[AsyncSession, Settings, Identity, date, date], Awaitable[list[str]]]


async def billing_run(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    month: str,
    *,
    issue: bool = True,
    registry: Registry | None = None,
) -> BillingRunResult:
    """Post the modules' periodic charges for ``month`` (with the app's ``registry``: each
    :data:`PERIODIC_CHARGES` provider), then invoice every organisation's open charges supplied up
    to the end of ``month``.

    Safe to run twice: a second run finds nothing open and invoices nothing. Each organisation's
    invoice is its own transaction, so one failure does not undo the others.
    """
    first, last = month_bounds(month)
    posted: list[str] = []
    if registry is not None:
        for provider in registry.provided(PERIODIC_CHARGES):
            posted.extend(await provider(db, settings, actor, first, last))
            await db.commit()
    org_ids = list(
        await db.scalars(
            select(Charge.organisation_id)
            .where(Charge.status == ChargeStatus.OPEN.value, Charge.supply_date <= last)
            .distinct()
            .order_by(Charge.organisation_id)
        )
    )
    await db.commit()
    made: list[InvoiceSummary] = []
    skipped: list[str] = []
    on = settings.today()
    for org_id in org_ids:
        try:
            invoice = await create_invoice(
                db,
                settings,
                actor,
                InvoiceCreate(
                    organisation_id=org_id,
                    supplied_up_to=last,
                    issue=issue,
                    notes=f"Charges to {last:%d %B %Y}",
                ),
            )
        except (RuleViolation, InvalidInput) as exc:
            await db.rollback()
            name = await db.scalar(select(Organisation.name).where(Organisation.id == org_id))
            skipped.append(f"{name}: {exc.detail}")
            continue
        made.append(summary_out(invoice, on))
    return BillingRunResult(month=month, invoices=made, skipped=skipped, posted=posted)
