"""Payments: money received against invoices (BACS, cash, cheque, card, Stripe) and refunds.

A payment is allocated to invoices — oldest first unless told otherwise — and whatever is left
is the organisation's credit, to be allocated later or refunded. A refund is a negative payment
that refers to the one it pays back; nothing is ever edited or deleted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing import rules
from hub.billing.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    RefundStatus,
    StripeRefund,
)
from hub.billing.schemas import (
    AllocateRequest,
    AllocationIn,
    AllocationOut,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    RefundCreate,
)
from hub.billing.services import ledger
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.models import Organisation, Role
from hub.money import format_pence
from hub.queries import get_or_404, page_of
from hub.services import audit

EARLIEST_PAYMENT = date(2000, 1, 1)


def _why_not_payable(invoice: Invoice) -> str:
    if invoice.kind != DocumentKind.INVOICE.value:
        return "a credit note is not paid"
    if invoice.status == InvoiceStatus.VOID.value:
        return "this invoice is void and cannot be paid"
    if invoice.status == InvoiceStatus.DRAFT.value:
        return "this invoice is a draft: issue it before taking payment"
    if invoice.status == InvoiceStatus.CREDITED.value:
        return "this invoice has been credited in full; nothing is owed"
    return "this invoice is already paid in full"


def allocate(payment: Payment, invoice: Invoice, amount: int, actor: Identity) -> PaymentAllocation:
    invoice.paid_pence += amount
    invoice.status = rules.invoice_status(invoice)
    return PaymentAllocation(
        payment_id=payment.id,
        invoice_id=invoice.id,
        amount_pence=amount,
        created_at=utcnow(),
        created_by_id=actor.user_id,
    )


def _family(payment_id: int) -> object:
    """The payment and its refunds: their allocations together say what the payment still covers."""
    return select(Payment.id).where((Payment.id == payment_id) | (Payment.refund_of_id == payment_id))


async def unallocated(db: AsyncSession, payment: Payment, *, invoice_id: int | None = None) -> int:
    """A payment's credit: what is left of it after refunds, less what it still covers on
    invoices. With ``invoice_id``: how much it still covers on that invoice."""
    allocated = select(func.coalesce(func.sum(PaymentAllocation.amount_pence), 0)).where(
        PaymentAllocation.payment_id.in_(_family(payment.id))  # type: ignore[arg-type]
    )
    if invoice_id is not None:
        return int(await db.scalar(allocated.where(PaymentAllocation.invoice_id == invoice_id)) or 0)
    left = await db.scalar(
        select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(
            Payment.id.in_(_family(payment.id))  # type: ignore[arg-type]
        )
    )
    return int(left or 0) - int(await db.scalar(allocated) or 0)


def check_received_on(received_on: date, settings: Settings) -> None:
    if received_on > settings.today():
        raise InvalidInput("a payment cannot be received in the future", field="received_on")
    if received_on < EARLIEST_PAYMENT:
        raise InvalidInput("that date is too long ago", field="received_on")


async def record_payment(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    data: PaymentCreate,
    *,
    stripe_payment_intent_id: str | None = None,
    commit: bool = True,
) -> Payment:
    """Record money received and settle invoices with it; the rest is kept as credit."""
    org = await db.get(Organisation, data.organisation_id) if is_valid_id(data.organisation_id) else None
    if org is None:
        raise InvalidInput("no organisation has that id", field="organisation_id")
    check_received_on(data.received_on, settings)
    if data.method == PaymentMethod.STRIPE and stripe_payment_intent_id is None:
        raise InvalidInput(
            "Stripe payments are recorded by Stripe's webhook; choose card for a card taken at the desk",
            field="method",
        )
    plan: list[tuple[Invoice, int]] = []
    if data.allocations:
        ids = [a.invoice_id for a in data.allocations]
        if len(set(ids)) != len(ids):
            raise InvalidInput("each invoice may appear once", field="allocations")
        invoices = {
            i.id: i
            for i in await db.scalars(
                select(Invoice)
                .where(Invoice.id.in_(ids))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        for index, item in enumerate(data.allocations):
            invoice = invoices.get(item.invoice_id)
            field = f"allocations[{index}]"
            if invoice is None or invoice.organisation_id != org.id:
                raise InvalidInput(f"that invoice is not one of {org.name}'s", field=f"{field}.invoice_id")
            if not rules.is_open(invoice.kind, invoice.status):
                raise RuleViolation(_why_not_payable(invoice), field=f"{field}.invoice_id")
            if item.amount_pence > invoice.outstanding_pence:
                raise RuleViolation(
                    f"only {format_pence(invoice.outstanding_pence)} is owed on {invoice.number_text}",
                    field=f"{field}.amount_pence",
                )
            plan.append((invoice, item.amount_pence))
        if sum(amount for _, amount in plan) > data.amount_pence:
            raise RuleViolation("the allocations add up to more than the payment", field="allocations")
    elif data.auto_allocate:
        left = data.amount_pence
        for invoice in await db.scalars(
            select(Invoice)
            .where(
                Invoice.organisation_id == org.id,
                Invoice.kind == DocumentKind.INVOICE.value,
                Invoice.status.in_(rules.OPEN_STATUSES),
            )
            .order_by(Invoice.due_date, Invoice.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            if left <= 0:
                break
            take = min(left, invoice.outstanding_pence)
            if take > 0:
                plan.append((invoice, take))
                left -= take
    payment = Payment(
        organisation_id=org.id,
        method=data.method.value,
        amount_pence=data.amount_pence,
        received_on=data.received_on,
        reference=data.reference.strip(),
        note=data.note.strip(),
        stripe_payment_intent_id=stripe_payment_intent_id,
        created_by_id=actor.user_id,
        created_by_label=actor.label,
        created_at=utcnow(),
    )
    db.add(payment)
    await db.flush()
    for invoice, amount in plan:
        db.add(allocate(payment, invoice, amount, actor))
    ledger.post_payment(db, payment)
    credit = data.amount_pence - sum(amount for _, amount in plan)
    audit.record(
        db,
        actor,
        "payment.recorded",
        "payment",
        payment.id,
        summary=f"{format_pence(payment.amount_pence)} {payment.method.upper()} from {org.name}",
        changes={
            "amount_pence": [None, payment.amount_pence],
            "allocations": [None, {i.number_text: a for i, a in plan}],
            "credit_pence": [None, credit],
        },
    )
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return payment


@dataclass(frozen=True)
class InvoicePayment:
    payment: Payment
    allocated_pence: int  # what went on the invoice; the rest of the payment is kept as credit


async def record_for_invoice(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    invoice: Invoice,
    data: PaymentCreate,
) -> InvoicePayment:
    """Money received against one invoice (the invoice page's form): as much as is owed goes on
    it, anything more is kept as the organisation's credit. ``data`` names no allocations."""
    allocate = min(data.amount_pence, invoice.outstanding_pence)
    allocations = [AllocationIn(invoice_id=invoice.id, amount_pence=allocate)] if allocate > 0 else []
    data = msgspec.structs.replace(
        data, organisation_id=invoice.organisation_id, allocations=allocations, auto_allocate=False
    )
    payment = await record_payment(db, settings, actor, data)
    return InvoicePayment(payment=payment, allocated_pence=max(allocate, 0))


async def get_payment(db: AsyncSession, viewer: Identity, payment_id: int, *, lock: bool = False) -> Payment:
    options = {"with_for_update": True, "populate_existing": True} if lock else {}
    payment = await get_or_404(db, Payment, payment_id, "That payment", **options)
    viewer.require_organisation(payment.organisation_id, "That payment")
    return payment


async def allocate_credit(
    db: AsyncSession, actor: Identity, payment_id: int, data: AllocateRequest, *, commit: bool = True
) -> Payment:
    """Use a payment's unallocated credit to settle an invoice of the same organisation."""
    payment = await get_payment(db, actor, payment_id, lock=True)
    if payment.amount_pence <= 0:
        raise RuleViolation("a refund has no credit to allocate", field="payment_id")
    invoice = await db.scalar(
        select(Invoice)
        .where(Invoice.id == data.invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invoice is None or invoice.organisation_id != payment.organisation_id:
        raise InvalidInput("that invoice is not one of this organisation's", field="invoice_id")
    if not rules.is_open(invoice.kind, invoice.status):
        raise RuleViolation(_why_not_payable(invoice), field="invoice_id")
    credit = await unallocated(db, payment)
    if data.amount_pence > credit:
        raise RuleViolation(
            f"only {format_pence(credit)} of this payment is unallocated", field="amount_pence"
        )
    if data.amount_pence > invoice.outstanding_pence:
        raise RuleViolation(
            f"only {format_pence(invoice.outstanding_pence)} is owed on {invoice.number_text}",
            field="amount_pence",
        )
    db.add(allocate(payment, invoice, data.amount_pence, actor))
    audit.record(
        db,
        actor,
        "payment.allocated",
        "payment",
        payment.id,
        summary=f"{format_pence(data.amount_pence)} of credit applied to {invoice.number_text}",
        changes={"invoice": [None, invoice.number_text], "amount_pence": [None, data.amount_pence]},
    )
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return payment


async def pending_refunds(db: AsyncSession, payment_id: int) -> dict[int | None, int]:
    """Refunds of this payment asked of Stripe and not yet settled, by the invoice they come
    from (None: from credit). They count as spent until Stripe says otherwise."""
    rows = await db.execute(
        select(StripeRefund.invoice_id, func.sum(StripeRefund.amount_pence))
        .where(StripeRefund.payment_id == payment_id, StripeRefund.status == RefundStatus.PENDING.value)
        .group_by(StripeRefund.invoice_id)
    )
    return {invoice_id: int(amount or 0) for invoice_id, amount in rows.all()}


async def refunded_so_far(db: AsyncSession, payment: Payment) -> int:
    return -int(
        await db.scalar(
            select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(Payment.refund_of_id == payment.id)
        )
        or 0
    )


async def check_refund(db: AsyncSession, payment: Payment, data: RefundCreate) -> Invoice | None:
    """Refuse a refund the payment cannot cover: never more than it has left (after earlier and
    pending refunds), than it paid on the invoice named, or than its credit when none is named.
    Answers the invoice named (locked), if any."""
    if payment.amount_pence <= 0:
        raise RuleViolation("a refund cannot itself be refunded", field="payment_id")
    if not data.reason.strip():
        raise InvalidInput("say why the money is paid back", field="reason")
    pending = await pending_refunds(db, payment.id)
    left = payment.amount_pence - await refunded_so_far(db, payment) - sum(pending.values())
    if data.amount_pence > left:
        raise RuleViolation(
            f"only {format_pence(max(left, 0))} of this payment is left to refund"
            + (" (a refund is still waiting for Stripe)" if pending else ""),
            field="amount_pence",
        )
    invoice: Invoice | None = None
    if data.invoice_id is not None:
        invoice = await db.scalar(
            select(Invoice)
            .where(Invoice.id == data.invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if invoice is None or invoice.organisation_id != payment.organisation_id:
            raise InvalidInput("that invoice is not one of this organisation's", field="invoice_id")
        on_invoice = await unallocated(db, payment, invoice_id=invoice.id) - pending.get(invoice.id, 0)
        if data.amount_pence > on_invoice:
            raise RuleViolation(
                f"this payment paid only {format_pence(max(on_invoice, 0))} on {invoice.number_text}",
                field="amount_pence",
            )
    else:
        credit = await unallocated(db, payment) - pending.get(None, 0)
        if data.amount_pence > credit:
            raise RuleViolation(
                f"this payment has only {format_pence(max(credit, 0))} of unallocated credit; "
                "name the invoice to refund what it paid there",
                field="amount_pence",
            )
    return invoice


async def record_refund(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    payment: Payment,
    invoice: Invoice | None,
    amount_pence: int,
    reason: str,
    *,
    stripe_refund_id: str | None = None,
) -> Payment:
    """Write the negative payment, its allocation and journal, and the audit entry (no commit)."""
    refunded = await refunded_so_far(db, payment)
    refund = Payment(
        organisation_id=payment.organisation_id,
        method=payment.method,
        amount_pence=-amount_pence,
        received_on=settings.today(),
        reference=f"Refund of payment {payment.id}",
        note=reason,
        refund_of_id=payment.id,
        stripe_refund_id=stripe_refund_id,
        created_by_id=actor.user_id,
        created_by_label=actor.label,
        created_at=utcnow(),
    )
    db.add(refund)
    await db.flush()
    if invoice is not None:
        db.add(allocate(refund, invoice, -amount_pence, actor))
    ledger.post_payment(db, refund)
    audit.record(
        db,
        actor,
        "payment.refunded",
        "payment",
        payment.id,
        summary=f"Refunded {format_pence(amount_pence)} of payment {payment.id}"
        + (f" on {invoice.number_text}" if invoice else " from credit"),
        changes={"refunded_pence": [refunded, refunded + amount_pence], "refund_id": [None, refund.id]},
        reason=reason,
    )
    return refund


async def refund_payment(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    payment_id: int,
    data: RefundCreate,
    *,
    commit: bool = True,
) -> Payment:
    """Pay money back by hand (cash, cheque, BACS, a card at the desk): checked, then recorded
    in one transaction. Stripe payments are refunded through Stripe
    (:func:`hub.billing.services.refunds.refund`)."""
    payment = await get_payment(db, actor, payment_id, lock=True)
    if payment.method == PaymentMethod.STRIPE.value:
        raise RuleViolation("a Stripe payment is refunded through Stripe", field="payment_id")
    invoice = await check_refund(db, payment, data)
    refund = await record_refund(
        db, settings, actor, payment, invoice, data.amount_pence, data.reason.strip()
    )
    if commit:
        await db.commit()
    else:
        await db.flush()  # so what the caller reads next sees it
    return refund


async def payments_out(db: AsyncSession, payments: list[Payment]) -> list[PaymentOut]:
    """Bounded: four queries for any number of payments."""
    ids = [p.id for p in payments]
    if not ids:
        return []
    refund_rows = list(await db.scalars(select(Payment).where(Payment.refund_of_id.in_(ids))))
    owner = {p.id: p.id for p in payments} | {r.id: r.refund_of_id or r.id for r in refund_rows}
    refunded: dict[int, int] = defaultdict(int)
    for refund in refund_rows:
        refunded[owner[refund.id]] += -refund.amount_pence
    own: dict[tuple[int, int], int] = defaultdict(int)
    numbers: dict[int, str | None] = {}
    for payment_id, invoice_id, number, amount in (
        await db.execute(
            select(
                PaymentAllocation.payment_id,
                PaymentAllocation.invoice_id,
                Invoice.number_text,
                func.sum(PaymentAllocation.amount_pence),
            )
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id.in_(list(owner)))
            .group_by(PaymentAllocation.payment_id, PaymentAllocation.invoice_id, Invoice.number_text)
        )
    ).all():
        own[(int(payment_id), int(invoice_id))] += int(amount)
        numbers[int(invoice_id)] = number
    # What a payment still covers on each invoice: its own allocations with its refunds' folded
    # in (a refund from an invoice takes back what the payment paid there).
    per_invoice: dict[tuple[int, int], int] = defaultdict(int)
    refunds_listed = {p.id for p in payments if p.amount_pence < 0}
    for (payment_id, invoice_id), amount in own.items():
        if payment_id in refunds_listed:
            per_invoice[(payment_id, invoice_id)] += amount
        if owner[payment_id] != payment_id or payment_id not in refunds_listed:
            per_invoice[(owner[payment_id], invoice_id)] += amount
    names = dict(
        (
            await db.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_({p.organisation_id for p in payments})
                )
            )
        ).all()
    )
    result = []
    for p in payments:
        allocations = [
            AllocationOut(invoice_id, numbers.get(invoice_id), amount)
            for (payment_id, invoice_id), amount in sorted(per_invoice.items())
            if payment_id == p.id and amount
        ]
        covered = sum(a.amount_pence for a in allocations)
        result.append(
            PaymentOut(
                id=p.id,
                organisation_id=p.organisation_id,
                organisation=names.get(p.organisation_id, ""),
                method=p.method,
                amount_pence=p.amount_pence,
                received_on=p.received_on,
                reference=p.reference,
                note=p.note,
                refund_of_id=p.refund_of_id,
                refunded_pence=refunded.get(p.id, 0) if p.amount_pence > 0 else 0,
                unallocated_pence=(p.amount_pence - refunded.get(p.id, 0) - covered)
                if p.amount_pence > 0
                else 0,
                stripe_payment_intent_id=p.stripe_payment_intent_id,
                stripe_refund_id=p.stripe_refund_id,
                created_by=p.created_by_label,
                created_at=p.created_at,
                allocations=allocations,
            )
        )
    return result


async def list_payments(
    db: AsyncSession,
    viewer: Identity,
    *,
    organisation_id: int | None = None,
    invoice_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> PaymentPage:
    conditions = []
    if viewer.role == Role.TENANT:
        conditions.append(Payment.organisation_id == viewer.organisation_id)
    if organisation_id is not None:
        # Another organisation asked about by a tenant answers 404, as a single object would.
        viewer.require_organisation(organisation_id, "That organisation")
        conditions.append(Payment.organisation_id == organisation_id)
    if invoice_id is not None:
        conditions.append(
            select(PaymentAllocation.id)
            .where(PaymentAllocation.payment_id == Payment.id, PaymentAllocation.invoice_id == invoice_id)
            .exists()
        )
    if since is not None:
        conditions.append(Payment.received_on >= since)
    if until is not None:
        conditions.append(Payment.received_on < until + timedelta(days=1))
    found = await page_of(
        db,
        select(Payment).where(*conditions).order_by(Payment.received_on.desc(), Payment.id.desc()),
        page=page,
        per_page=per_page,
    )
    return PaymentPage(
        items=await payments_out(db, found.rows), total=found.total, page=page, per_page=per_page
    )


async def check_no_duplicate(db: AsyncSession, intent_id: str) -> None:
    if await db.scalar(select(Payment.id).where(Payment.stripe_payment_intent_id == intent_id)):
        raise Conflict("that Stripe payment is already recorded", field="payment_intent")
