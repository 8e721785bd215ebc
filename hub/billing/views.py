"""The money pages: invoices, an invoice with its actions, statements, aged debt.

Thin like every view: each handler reads a form, calls a service in ``hub.billing.services`` and
renders or redirects. What people type as money ("£12.50", "12.50", "12") becomes pence here,
before any service sees it; everything else is checked by the services.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity, roles
from hub.billing import rules
from hub.billing.models import ChargeStatus, DocumentKind, InvoiceStatus, PaymentMethod
from hub.billing.printing import STATUS_LABELS, document_title, invoice_pdf, vat_summary
from hub.billing.schemas import (
    ChargeCreate,
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceOut,
    InvoiceSummary,
    PaymentCreate,
    RefundCreate,
)
from hub.billing.services import actions, charges, debt, invoices, mailing, payments, refunds, stripe_pay
from hub.config import Settings
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.errors import DomainError, InvalidInput, NotFound
from hub.forms import Problems, parse_day, parse_id, parse_page, parse_pence, pounds_input, renamed
from hub.idempotency import caller_of
from hub.models import Role
from hub.modules import Registry
from hub.money import format_pence
from hub.schemas import convert_input
from hub.services import organisations
from hub.text import search_term
from hub.web import NavItem, form_errors, read_form, redirect, render

READERS = roles(STAFF, Role.TRUSTEE, Role.TENANT)
FIGURES = roles(STAFF, Role.TRUSTEE)
PAYERS = roles(STAFF, Role.TENANT)
WRITERS = roles(STAFF)

PER_PAGE = 25

STATUS_CHOICES = [(s.value, STATUS_LABELS[s.value]) for s in InvoiceStatus]
KIND_CHOICES = [("invoice", "Invoices"), ("credit_note", "Credit notes")]
METHOD_CHOICES = [(method, rules.method_label(method)) for method in rules.DESK_METHODS]
VAT_CHOICES = [
    ("0", "0% (exempt or zero-rated)"),
    ("500", "5% (reduced rate)"),
    ("2000", "20% (standard rate)"),
]
CHARGE_STATUS_CHOICES = [
    (ChargeStatus.OPEN.value, "Open (not yet invoiced)"),
    (ChargeStatus.INVOICED.value, "Invoiced"),
    (ChargeStatus.CANCELLED.value, "Cancelled"),
]
ENTRY_LABELS = {"invoice": "Invoice", "credit_note": "Credit note", "payment": "Payment", "refund": "Refund"}

# --- what people type ---------------------------------------------------------------------------

_DOCUMENT_FILE = re.compile(r"^(\d{1,19})(\.pdf)?$")


# --- helpers shared by the templates ------------------------------------------------------------


def day(value: date | None, fmt: str = "%b %Y") -> str:
    """A date as people write it: 1 Oct 2026 (``fmt`` is what follows the day of the month)."""
    return f"{value.day} {value.strftime(fmt)}" if value else ""


def vat_rate(rate_bp: int) -> str:
    return f"{rate_bp / 100:g}%"


def document_name(doc: InvoiceOut | InvoiceSummary) -> str:
    """What a document is called on the page: its number, or "Draft invoice 12" before issue."""
    if doc.number:
        return doc.number
    return f"{'Draft' if doc.status == 'draft' else 'Void draft'} {doc.id}"


def _helpers() -> dict[str, Any]:
    return {
        "money": format_pence,
        "day": day,
        "vat_rate": vat_rate,
        "status_label": lambda status: STATUS_LABELS.get(status, status),
        "document_name": document_name,
        "method_label": rules.method_label,
        "entry_label": lambda kind: ENTRY_LABELS.get(kind, kind),
    }


async def _organisation_choices(db: AsyncSession, identity: Identity) -> list[tuple[int, str]]:
    """Organisations for a select. Only staff and trustees are ever shown one (never a tenant)."""
    if identity.role not in STAFF and identity.role != Role.TRUSTEE:
        return []
    found = await organisations.search(db, identity, active=None, per_page=200)
    return [(o.id, o.name) for o in found.items]


# --- 1. the list --------------------------------------------------------------------------------


@get("/invoices", opt=READERS, include_in_schema=False)
async def invoice_list(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    status: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    organisation_id: FromQuery[str] = "",
    overdue: FromQuery[str] = "",
    q: FromQuery[str] = "",
    page: FromQuery[str] = "1",
) -> Template:
    errors: dict[str, str] = {}
    staff = identity.role in STAFF
    tenant = identity.role == Role.TENANT
    allowed_status = {v for v, _ in STATUS_CHOICES if not (tenant and v == "draft")}
    if status and status not in allowed_status:
        errors["status"] = "Choose one of the listed statuses."
        status = ""
    if kind and kind not in dict(KIND_CHOICES):
        errors["kind"] = "Choose invoices or credit notes."
        kind = ""
    org_id: int | None = None
    if organisation_id and not tenant:
        org_id = parse_id(organisation_id)
        if org_id is None:
            errors["organisation_id"] = "Choose one of the listed organisations."
    search = search_term(q)[:100]
    page_number = parse_page(page)
    result = await invoices.list_invoices(
        db,
        settings,
        identity,
        status=status or None,
        organisation_id=org_id,
        kind=kind or None,
        overdue=overdue == "yes",
        search=search,
        page=page_number,
        per_page=PER_PAGE,
    )
    items = result.items
    pages = max(1, -(-result.total // result.per_page))
    query = {
        "q": search,
        "status": status,
        "kind": kind,
        "organisation_id": str(org_id or ""),
        "overdue": "yes" if overdue == "yes" else "",
    }
    return render(
        request,
        "billing/list.html",
        title="Invoices",
        items=items,
        total=result.total,
        page=page_number,
        pages=pages,
        query=query,
        errors=errors,
        organisations=await _organisation_choices(db, identity),
        statuses=[(v, t) for v, t in STATUS_CHOICES if v in allowed_status],
        kinds=KIND_CHOICES,
        can_edit=staff,
        show_organisation_filter=not tenant,
        **_helpers(),
    )


# --- the monthly billing run ------------------------------------------------------------------------


def _last_month(settings: Settings) -> str:
    first = settings.today().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@get("/invoices/billing-run", opt=WRITERS, include_in_schema=False)
async def billing_run_page(request: Request[Any, Any, Any], settings: SettingsDep) -> Template:
    return render(
        request,
        "billing/run.html",
        title="Monthly billing run",
        values={"month": _last_month(settings)},
        result=None,
        **_helpers(),
    )


@post("/invoices/billing-run", opt=WRITERS, include_in_schema=False)
async def billing_run_submit(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, registry: RegistryDep
) -> Template:
    """The same run as ``hubkeeper billing run``: every organisation's open charges supplied up to
    the end of the month, one invoice each; running it again invoices nothing twice."""
    form = await read_form(request)
    month = form.get("month", "").strip()
    try:
        if not month:
            raise InvalidInput("Choose the month to invoice.", field="month")
        result = await invoices.billing_run(
            db, settings, identity, month, issue=form.get("draft") != "yes", registry=registry
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return render(
            request,
            "billing/run.html",
            status_code=exc.status_code,
            title="Monthly billing run",
            values=form,
            errors={"month": errors.get("month", exc.detail)},
            error_summary=summary,
            result=None,
            **_helpers(),
        )
    return render(
        request,
        "billing/run.html",
        title="Monthly billing run",
        values=form,
        result=result,
        total_pence=sum(i.gross_pence for i in result.invoices),
        **_helpers(),
    )


# --- 2. a new invoice from open charges ---------------------------------------------------------


async def _new_invoice_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    identity: Identity,
    organisation_id: int | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
) -> Template:
    choices = await _organisation_choices(db, identity)
    open_charges = []
    org_name = ""
    if organisation_id is not None:
        found = await charges.list_charges(
            db, identity, organisation_id=organisation_id, status=ChargeStatus.OPEN.value, per_page=200
        )
        open_charges = found.items
        org_name = dict(choices).get(organisation_id, "")
    if values is None:
        values = {f"charge-{c.id}": "yes" for c in open_charges} | {"issue": "now"}
    return render(
        request,
        "billing/new.html",
        status_code=status_code,
        title="New invoice",
        organisations=choices,
        organisation_id=organisation_id,
        organisation_name=org_name,
        open_charges=open_charges,
        values=values,
        errors=errors,
        error_summary=summary,
        **_helpers(),
    )


@get("/invoices/new", opt=WRITERS, include_in_schema=False)
async def invoice_new(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromQuery[str] = ""
) -> Template:
    org_id = parse_id(organisation_id) if organisation_id else None
    errors = (
        {"organisation": "Choose one of the listed organisations."} if organisation_id and not org_id else {}
    )
    return await _new_invoice_page(request, db, identity, org_id, errors=errors)


@post("/invoices/new", opt=WRITERS, include_in_schema=False)
async def invoice_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    org_id = parse_id(form.get("organisation_id"))
    chosen = [int(k.removeprefix("charge-")) for k in form if re.fullmatch(r"charge-\d{1,18}", k)]
    try:
        if org_id is None:
            raise InvalidInput("Choose an organisation.", field="organisation")
        if not chosen:
            raise InvalidInput("Tick at least one charge to put on the invoice.", field="charges")
        data = convert_input(
            {
                "organisation_id": org_id,
                "charge_ids": chosen,
                "issue": form.get("issue") != "draft",
                "notes": form.get("notes", ""),
            },
            InvoiceCreate,
        )
        invoice = await invoices.create_invoice(db, settings, identity, data)
    except DomainError as exc:
        await db.rollback()
        names = {"charge_ids*": "charges", "organisation_id": "organisation"}
        errors, summary = renamed(exc, names, default="charges")
        return await _new_invoice_page(
            request,
            db,
            identity,
            org_id,
            values=form,
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
        )
    gross = format_pence(invoice.gross_pence)
    if invoice.number_text:
        flash = f"Invoice {invoice.number_text} for {gross} was issued to {invoice.customer_name}."
    else:
        flash = f"Draft invoice for {gross} was saved. Issue it when it is ready to send."
    return redirect(request, f"/invoices/{invoice.id}", flash=flash)


# --- 3. invoice one thing a module charged for (a button on the module's page) ------------------


@post("/invoices/for-source/{source_type:str}/{source_id:str}", opt=WRITERS, include_in_schema=False)
async def invoice_for_source(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    registry: RegistryDep,
    source_type: FromPath[str],
    source_id: FromPath[str],
) -> Redirect:
    """Everything open for one source (a module's thing) on one invoice, issued; back to the
    thing's page (the registry's link) with the reason when there is nothing to invoice."""
    form = await read_form(request)
    label = registry.source_label(source_type)
    # Back to the thing's own page (only for an id that could be one; never a crafted path).
    plain_id = re.fullmatch(r"[\w.-]{1,64}", source_id) is not None
    back = (registry.source_link(source_type, source_id) if plain_id else None) or "/invoices"
    try:
        org_id = parse_id(form.get("organisation_id"))
        if org_id is None:
            raise InvalidInput("it has no organisation to invoice", field="organisation_id")
        data = convert_input(
            {"organisation_id": org_id, "source_type": source_type, "source_id": source_id}, InvoiceCreate
        )
        invoice = await invoices.create_invoice(db, settings, identity, data, registry=registry)
    except DomainError as exc:
        await db.rollback()
        reason = exc.errors[0].reason if exc.errors else exc.detail
        return redirect(request, back, flash=f"This {label.lower()} was not invoiced: {reason}")
    return redirect(
        request,
        f"/invoices/{invoice.id}",
        flash=f"Invoice {invoice.number_text} for {format_pence(invoice.gross_pence)} "
        f"was issued for this {label.lower()}.",
    )


# --- 4. one invoice or credit note, with what may be done to it ---------------------------------


async def _invoice_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    invoice_id: int,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    open_panel: str = "",
    paid_online: bool = False,
) -> Template:
    offer = await actions.for_invoice(db, settings, identity, invoice_id)
    doc = offer.doc
    refundable = offer.refundable
    today = settings.today()
    defaults = {
        "method": PaymentMethod.BACS.value,
        "amount": pounds_input(doc.outstanding_pence) if offer.payable else "",
        "received_on": today.isoformat(),
        "credit_scope": "whole",
        "refund_payment": str(refundable[0].payment.id) if refundable else "",
        "refund_amount": pounds_input(refundable[0].on_invoice_pence) if refundable else "",
        # One key per form shown: submitting the same form twice is one refund, not two.
        "refund_key": uuid.uuid4().hex,
    }
    return render(
        request,
        "billing/invoice.html",
        emailed=await mailing.document_mail(db, doc.id) if identity.role in STAFF else [],
        status_code=status_code,
        title=f"{document_title(doc)} {document_name(doc)}",
        doc=doc,
        heading=document_title(doc),
        is_invoice=offer.is_invoice,
        vat_lines=vat_summary(doc),
        credit_notes=doc.credit_notes if offer.is_invoice else [],
        payment_rows=offer.payments,
        refund_options=[
            (
                r.payment.id,
                f"{rules.method_label(r.payment.method)} of {format_pence(r.payment.amount_pence)} received "
                f"{day(r.payment.received_on)}{f' ({r.payment.reference})' if r.payment.reference else ''}: "
                f"{format_pence(r.on_invoice_pence)} on this invoice",
            )
            for r in refundable
        ],
        left_to_credit=offer.left_to_credit,
        values={**defaults, **(values or {})},
        errors=errors,
        error_summary=summary,
        open_panel=open_panel,
        today=today.isoformat(),
        can_issue=offer.can_issue,
        can_pay=offer.can_pay,
        can_credit=offer.can_credit,
        can_refund=offer.can_refund,
        show_pay_online=offer.show_pay_online,
        show_bank_transfer=offer.show_bank_transfer,
        paid_online=paid_online,
        staff=identity.role in STAFF,
        method_choices=METHOD_CHOICES,
        **_helpers(),
    )


def _pdf_name(doc: InvoiceOut) -> str:
    return f"{doc.number}.pdf" if doc.number else f"draft-invoice-{doc.id}.pdf"


@get("/invoices/{invoice_file:str}", opt=READERS, include_in_schema=False)
async def invoice_detail(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_file: FromPath[str],
    redirect_status: FromQuery[str] = "",
) -> Template | Response[bytes]:
    """``/invoices/12`` is the page; ``/invoices/12.pdf`` the same document as a PDF."""
    match = _DOCUMENT_FILE.match(invoice_file)
    if match is None:
        raise NotFound("That invoice was not found.")
    invoice_id = int(match.group(1))
    if match.group(2):
        doc = await actions.get_document(db, settings, identity, invoice_id)
        return Response(
            content=invoice_pdf(doc),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{_pdf_name(doc)}"',
                "Cache-Control": "private",
            },
        )
    # Stripe sends the payer back here with ?redirect_status=succeeded; the webhook records it.
    return await _invoice_page(
        request, db, settings, identity, invoice_id, paid_online=redirect_status == "succeeded"
    )


@get("/invoices/{invoice_id:int}/print", opt=READERS, include_in_schema=False)
async def invoice_print(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template:
    doc = await actions.get_document(db, settings, identity, invoice_id)
    return render(
        request,
        "billing/print.html",
        title=f"{document_title(doc)} {document_name(doc)}",
        doc=doc,
        heading=document_title(doc),
        is_invoice=doc.kind == DocumentKind.INVOICE.value,
        vat_lines=vat_summary(doc),
        **_helpers(),
    )


async def _refused(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    invoice_id: int,
    exc: DomainError,
    names: dict[str, str],
    *,
    default: str,
    form: dict[str, str] | None,
    panel: str,
) -> Template:
    """An action on the invoice page was refused: nothing was written (roll back whatever the
    service began); show the page again with the reasons beside the fields and what was typed."""
    await db.rollback()
    errors, summary = renamed(exc, names, default=default)
    return await _invoice_page(
        request,
        db,
        settings,
        identity,
        invoice_id,
        status_code=exc.status_code,
        values=form,
        errors=errors,
        summary=summary,
        open_panel=panel,
    )


@post("/invoices/{invoice_id:int}/issue", opt=WRITERS, include_in_schema=False)
async def invoice_issue(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    try:
        invoice = await invoices.issue_invoice(db, settings, identity, invoice_id)
    except DomainError as exc:
        return await _refused(
            request,
            db,
            settings,
            identity,
            invoice_id,
            exc,
            {"status": "issue"},
            default="issue",
            form=None,
            panel="",
        )
    return redirect(
        request,
        f"/invoices/{invoice.id}",
        flash=f"Invoice {invoice.number_text} was issued. It is due on {day(invoice.due_date)}.",
    )


@post("/invoices/{invoice_id:int}/void", opt=WRITERS, include_in_schema=False)
async def invoice_void(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    try:
        if not form.get("void_reason"):
            raise InvalidInput("Say why the draft is voided, for the record.", field="void_reason")
        await invoices.void_draft(db, identity, invoice_id, form["void_reason"][:1000])
    except DomainError as exc:
        return await _refused(
            request,
            db,
            settings,
            identity,
            invoice_id,
            exc,
            {"status": "void_reason", "reason": "void_reason"},
            default="void_reason",
            form=form,
            panel="void",
        )
    return redirect(
        request,
        f"/invoices/{invoice_id}",
        flash="The draft was voided. Its charges are open to invoice again.",
    )


PAYMENT_FIELDS = {
    "amount_pence": "amount",
    "allocations*": "amount",
    "received_on": "received_on",
    "method": "method",
    "reference": "reference",
    "note": "note",
    "organisation_id": "amount",
}


@post("/invoices/{invoice_id:int}/payments", opt=WRITERS, include_in_schema=False)
async def invoice_payment(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    invoice = await invoices.get_invoice(db, identity, invoice_id)
    number = invoice.number_text
    problems = Problems()
    amount = received_on = None
    try:
        amount = parse_pence(form.get("amount"), "amount")
    except DomainError as exc:
        problems.check(exc)
    try:
        received_on = parse_day(form.get("received_on"), "received_on")
    except DomainError as exc:
        problems.check(exc)
    try:
        if form.get("method") not in dict(METHOD_CHOICES):
            problems.check(InvalidInput("Choose how the money was paid.", field="method"))
        problems.raise_any()
        assert amount is not None and received_on is not None
        data = convert_input(
            {
                "organisation_id": invoice.organisation_id,
                "method": form["method"],
                "amount_pence": amount,
                "received_on": received_on.isoformat(),
                "reference": form.get("reference", ""),
                "note": form.get("note", ""),
            },
            PaymentCreate,
        )
        recorded = await payments.record_for_invoice(db, settings, identity, invoice, data)
    except DomainError as exc:
        return await _refused(
            request,
            db,
            settings,
            identity,
            invoice_id,
            exc,
            PAYMENT_FIELDS,
            default="amount",
            form=form,
            panel="payment",
        )
    invoice = await invoices.get_invoice(db, identity, invoice_id)
    flash = f"Payment of {format_pence(amount)} recorded against {number}."
    if invoice.outstanding_pence > 0:
        flash += f" {format_pence(invoice.outstanding_pence)} is still owed."
    else:
        flash += " It is now paid in full."
    if recorded.payment.amount_pence > recorded.allocated_pence:
        kept = recorded.payment.amount_pence - recorded.allocated_pence
        flash += f" {format_pence(kept)} kept as credit for {invoice.customer_name}."
    return redirect(request, f"/invoices/{invoice_id}", flash=flash)


@post("/invoices/{invoice_id:int}/credit-notes", opt=WRITERS, include_in_schema=False)
async def invoice_credit(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    invoice = await invoices.get_invoice(db, identity, invoice_id)
    positions = {line.id: line.position for line in invoice.lines}
    problems = Problems()
    lines: list[dict[str, int]] | None = None
    if not form.get("credit_reason"):
        problems.check(InvalidInput("Say why the invoice is credited.", field="credit_reason"))
    if form.get("credit_scope") == "lines":
        lines = []
        for line in invoice.lines:
            typed = form.get(f"line-{line.position}", "")
            if not typed:
                continue
            try:
                lines.append({"line_id": line.id, "net_pence": parse_pence(typed, f"line-{line.position}")})
            except DomainError as exc:
                problems.check(exc)
        if not lines and not problems.items:
            problems.check(InvalidInput("Enter an amount for at least one line.", field="credit_lines"))
    elif form.get("credit_scope") != "whole":
        problems.check(InvalidInput("Choose the whole invoice or some lines.", field="credit_scope"))
    line_names = {
        f"lines[{i}].net_pence": f"line-{positions[item['line_id']]}" for i, item in enumerate(lines or [])
    }
    try:
        problems.raise_any()
        data = convert_input({"reason": form["credit_reason"], "lines": lines}, CreditNoteCreate)
        note = await invoices.create_credit_note(db, settings, identity, invoice_id, data)
    except DomainError as exc:
        names = {**line_names, "reason": "credit_reason", "lines": "credit_lines", "status": "credit_lines"}
        names["lines*"] = "credit_lines"
        return await _refused(
            request,
            db,
            settings,
            identity,
            invoice_id,
            exc,
            names,
            default="credit_lines",
            form=form,
            panel="credit",
        )
    return redirect(
        request,
        f"/invoices/{note.id}",
        flash=f"Credit note {note.number_text} for {format_pence(note.gross_pence)} was issued "
        f"against {invoice.number_text}.",
    )


@post("/invoices/{invoice_id:int}/refunds", opt=WRITERS, include_in_schema=False)
async def invoice_refund(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    invoice = await invoices.get_invoice(db, identity, invoice_id)
    problems = Problems()
    amount = None
    payment_id = parse_id(form.get("refund_payment"))
    if payment_id is None:
        problems.check(InvalidInput("Choose the payment to refund.", field="refund_payment"))
    try:
        amount = parse_pence(form.get("refund_amount"), "refund_amount")
    except DomainError as exc:
        problems.check(exc)
    if not form.get("refund_reason"):
        problems.check(InvalidInput("Say why the money is paid back.", field="refund_reason"))
    try:
        problems.raise_any()
        assert payment_id is not None and amount is not None
        # Only a payment that paid this invoice is offered (the service checks the same).
        offer = await actions.for_invoice(db, settings, identity, invoice.id)
        if payment_id not in {p.id for p in offer.payments}:
            raise InvalidInput("Choose one of the payments listed.", field="refund_payment")
        data = convert_input(
            {"amount_pence": amount, "reason": form["refund_reason"], "invoice_id": invoice.id}, RefundCreate
        )
        form_key = str(form.get("refund_key") or "")[:64]
        await refunds.refund(
            db,
            settings,
            identity,
            payment_id,
            data,
            request_key=f"form:{caller_of(identity)}:{form_key}" if form_key.isalnum() else None,
        )
    except DomainError as exc:
        names = {
            "amount_pence": "refund_amount",
            "reason": "refund_reason",
            "payment_id": "refund_payment",
            "invoice_id": "refund_payment",
        }
        # A refused refund is a new request when sent again: a fresh key for the form.
        form = {**form, "refund_key": uuid.uuid4().hex}
        return await _refused(
            request,
            db,
            settings,
            identity,
            invoice_id,
            exc,
            names,
            default="refund_amount",
            form=form,
            panel="refund",
        )
    return redirect(
        request,
        f"/invoices/{invoice_id}",
        flash=f"Refund of {format_pence(amount)} recorded. Pay it back to {invoice.customer_name} "
        "the way it was paid, if that has not been done.",
    )


# --- 5. paying online ---------------------------------------------------------------------------


@get("/invoices/{invoice_id:int}/pay", opt=PAYERS, include_in_schema=False)
async def invoice_pay(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    invoice_id: FromPath[int],
) -> Template | Redirect:
    invoice = await actions.get_document(db, settings, identity, invoice_id)
    try:
        pay = await stripe_pay.pay_now(db, settings, identity, invoice_id)
        if not pay.publishable_key:
            raise InvalidInput("online payment is not fully set up here; pay by bank transfer instead")
    except DomainError as exc:
        await db.rollback()
        reason = exc.errors[0].reason if exc.errors else exc.detail
        return redirect(
            request, f"/invoices/{invoice_id}", flash=f"Online payment is not available: {reason}."
        )
    return render(
        request,
        "billing/pay.html",
        title=f"Pay {invoice.number}",
        number=invoice.number,
        invoice_id=invoice.id,
        customer=invoice.customer_name,
        amount=format_pence(pay.amount_pence),
        pay=pay,
    )


# --- 7. charges ---------------------------------------------------------------------------------

CHARGE_FIELDS = {
    "organisation_id": "organisation",
    "description": "description",
    "net_pence": "amount",
    "vat_rate_bp": "vat_rate",
    "supply_date": "supply_date",
    "stream": "stream",
}


async def _charges_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    registry: Registry,
    *,
    organisation_id: str = "",
    status: str = "open",
    page: str = "1",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
    open_panel: str = "",
) -> Template:
    errors = dict(errors or {})
    org_id = parse_id(organisation_id) if organisation_id else None
    if organisation_id and org_id is None:
        errors["filter_organisation_id"] = "Choose one of the listed organisations."
    if status not in {v for v, _ in CHARGE_STATUS_CHOICES} | {"all"}:
        errors["filter_status"] = "Choose one of the listed statuses."
        status = "open"
    page_number = parse_page(page)
    result = await charges.list_charges(
        db,
        identity,
        organisation_id=org_id,
        status=None if status == "all" else status,
        page=page_number,
        per_page=PER_PAGE,
    )
    defaults = {
        "organisation": str(org_id or ""),
        "vat_rate": "0",
        "stream": "other",
        "supply_date": settings.today().isoformat(),
    }
    return render(
        request,
        "billing/charges.html",
        status_code=status_code,
        title="Charges",
        result=result,
        pages=max(1, -(-result.total // result.per_page)),
        page=page_number,
        filter_organisation_id=str(org_id or ""),
        filter_status=status,
        organisations=await _organisation_choices(db, identity),
        statuses=[*CHARGE_STATUS_CHOICES, ("all", "All")],
        vat_choices=VAT_CHOICES,
        streams=[(code, stream.label) for code, stream in registry.streams.items()],
        stream_label=registry.stream_label,
        source_label=registry.source_label,
        source_link=registry.source_link,
        values={**defaults, **(values or {})},
        errors=errors,
        error_summary=summary,
        open_panel=open_panel,
        **_helpers(),
    )


@get("/charges", opt=WRITERS, include_in_schema=False)
async def charge_list(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    registry: RegistryDep,
    organisation_id: FromQuery[str] = "",
    status: FromQuery[str] = "open",
    page: FromQuery[str] = "1",
) -> Template:
    return await _charges_page(
        request, db, settings, identity, registry, organisation_id=organisation_id, status=status, page=page
    )


@post("/charges", opt=WRITERS, include_in_schema=False)
async def charge_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, registry: RegistryDep
) -> Template | Redirect:
    form = await read_form(request)
    problems = Problems()
    data: dict[str, Any] = {
        "organisation_id": parse_id(form.get("organisation")) or 0,
        "description": form.get("description", "")[:400],
        "stream": form.get("stream", ""),
        "vat_rate_bp": form.get("vat_rate", ""),
    }
    if not data["organisation_id"]:
        problems.check(InvalidInput("Choose the organisation to charge.", field="organisation"))
    if not data["description"]:
        problems.check(InvalidInput("Say what the charge is for.", field="description"))
    if data["vat_rate_bp"] not in dict(VAT_CHOICES):
        problems.check(InvalidInput("Choose a VAT rate.", field="vat_rate"))
    if data["stream"] not in registry.streams:
        problems.check(InvalidInput("Choose the kind of income.", field="stream"))
    try:
        data["net_pence"] = parse_pence(form.get("amount"), "amount")
    except DomainError as exc:
        problems.check(exc)
    try:
        supplied = parse_day(form.get("supply_date"), "supply_date")
        data["supply_date"] = supplied.isoformat() if supplied else None
    except DomainError as exc:
        problems.check(exc)
    try:
        problems.raise_any()
        charge = await charges.create_manual(
            db, identity, convert_input(data, ChargeCreate), registry=registry
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = renamed(exc, CHARGE_FIELDS)
        return await _charges_page(
            request,
            db,
            settings,
            identity,
            registry,
            organisation_id=form.get("organisation", ""),
            values=form,
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
            open_panel="add",
        )
    gross = format_pence(charge.net_pence + charge.vat_pence)
    return redirect(
        request,
        f"/charges?organisation_id={charge.organisation_id}",
        flash=f"Charge “{charge.description}” for {gross} was added. It will go on the next invoice.",
    )


@post("/charges/{charge_id:int}/cancel", opt=WRITERS, include_in_schema=False)
async def charge_cancel(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    registry: RegistryDep,
    charge_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    field = f"cancel-{charge_id}"
    try:
        charge = await charges.get_charge(db, identity, charge_id)
        if not form.get(field):
            raise InvalidInput("Say why the charge is cancelled, for the record.", field=field)
        await charges.cancel_charge(db, identity, charge_id, form[field][:1000])
    except DomainError as exc:
        await db.rollback()
        if isinstance(exc, NotFound):
            raise
        by_field, summary = form_errors(exc)
        errors = {field: next(iter(by_field.values()), exc.detail)}
        return await _charges_page(
            request,
            db,
            settings,
            identity,
            registry,
            organisation_id=form.get("filter_organisation_id", ""),
            status="open",
            values=form,
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
            open_panel=field,
        )
    return redirect(
        request,
        f"/charges?organisation_id={charge.organisation_id}",
        flash=f"Charge “{charge.description}” was cancelled.",
    )


# --- 8. aged debt -------------------------------------------------------------------------------


@get("/debt", opt=FIGURES, include_in_schema=False)
async def aged_debt_page(request: Request[Any, Any, Any], db: Db, settings: SettingsDep) -> Template:
    aged = await debt.aged_debt(db, settings)
    return render(request, "billing/debt.html", title="Aged debt", aged=aged, **_helpers())


# --- 9. an organisation's statement -------------------------------------------------------------


def _statement_period(from_text: str, to_text: str) -> tuple[date | None, date | None]:
    """A statement's ``from`` and ``to`` as typed (blank: the statement's default); a date that does
    not read is refused naming its field, both reported at once."""
    problems = Problems()
    dates: dict[str, date | None] = {"from": None, "to": None}
    for name, text in (("from", from_text), ("to", to_text)):
        try:
            dates[name] = parse_day(text[:40], name, required=False)
        except DomainError as exc:
            problems.check(exc)
    problems.raise_any()
    return dates["from"], dates["to"]


@get("/organisations/{organisation_id:int}/statement", opt=READERS, include_in_schema=False)
async def statement_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    organisation_id: FromPath[int],
    from_text: Annotated[str, QueryParameter(name="from")] = "",
    to_text: Annotated[str, QueryParameter(name="to")] = "",
) -> Template:
    status_code = 200
    errors: dict[str, str] = {}
    summary: str | None = None
    try:
        from_date, to_date = _statement_period(from_text, to_text)
        result = await debt.statement(
            db, settings, identity, organisation_id, from_date=from_date, to_date=to_date
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        errors, summary = form_errors(exc)
        status_code = exc.status_code
        result = await debt.statement(db, settings, identity, organisation_id)
    return render(
        request,
        "billing/statement.html",
        status_code=status_code,
        title=f"Statement for {result.organisation}",
        statement=result,
        can_email=identity.role in STAFF or identity.role == Role.TENANT,
        # The period shown, or what was typed when it could not be read.
        values={
            "from": from_text[:40] if "from" in errors else result.from_date.isoformat(),
            "to": to_text[:40] if "to" in errors else result.to_date.isoformat(),
        },
        errors=errors,
        error_summary=summary,
        **_helpers(),
    )


# Staff, or a tenant for its own organisation (another's answers 404); trustees never write.
EMAILERS = roles(STAFF, Role.TENANT)


@post("/organisations/{organisation_id:int}/statement/email", opt=EMAILERS, include_in_schema=False)
async def statement_email(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    organisation_id: FromPath[int],
) -> Redirect:
    """Email the statement for the period the page showed (its hidden ``from`` and ``to``; the
    last year to today when they are absent) to the organisation's billing contact."""
    form = await read_form(request)
    back = f"/organisations/{organisation_id}/statement"
    try:
        from_date, to_date = _statement_period(form.get("from", ""), form.get("to", ""))
        result = await debt.statement(
            db, settings, identity, organisation_id, from_date=from_date, to_date=to_date
        )
        back += "?" + urlencode({"from": result.from_date.isoformat(), "to": result.to_date.isoformat()})
        message = await mailing.queue_statement(db, settings, identity, result)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        await db.rollback()
        return redirect(request, back, flash=f"The statement was not sent: {exc.detail}")
    return redirect(
        request,
        back,
        flash=f"The statement for {day(result.from_date, '%B %Y')} to {day(result.to_date, '%B %Y')} "
        f"will be emailed to {message.to_address}.",
    )


ROUTES: list[ControllerRouterHandler] = [
    billing_run_page,
    billing_run_submit,
    invoice_list,
    invoice_new,
    invoice_create,
    invoice_for_source,
    invoice_detail,
    invoice_print,
    invoice_issue,
    invoice_void,
    invoice_payment,
    invoice_credit,
    invoice_refund,
    invoice_pay,
    charge_list,
    charge_create,
    charge_cancel,
    aged_debt_page,
    statement_page,
    statement_email,
]
NAV: list[NavItem] = [
    NavItem("Invoices", "/invoices", frozenset(STAFF | {Role.TRUSTEE, Role.TENANT}), order=40),
    NavItem("Charges", "/charges", frozenset(STAFF), order=42),
    NavItem("Aged debt", "/debt", frozenset(STAFF | {Role.TRUSTEE}), order=44),
]
