"""What may be done to one invoice or credit note, for the viewer: the invoice page's offers.

The page shows what this answers and nothing else; the services that do each thing check the
same rules again (:mod:`hub.billing.rules`) when it is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity
from hub.billing import rules
from hub.billing.schemas import InvoiceOut, PaymentOut
from hub.billing.services import invoices, payments
from hub.config import Settings
from hub.models import Role


@dataclass(frozen=True)
class RefundablePayment:
    payment: PaymentOut
    on_invoice_pence: int  # what it paid of this invoice: the most that may be refunded here


@dataclass(frozen=True)
class InvoiceActions:
    doc: InvoiceOut
    is_invoice: bool
    payments: list[PaymentOut]  # every payment and refund that touched this invoice
    refundable: list[RefundablePayment]
    left_to_credit: dict[int, int]  # line id → net pence that may still be credited
    payable: bool  # something is owed and may be paid
    can_issue: bool
    can_pay: bool  # record a payment at the desk
    can_credit: bool
    can_refund: bool
    show_pay_online: bool
    show_bank_transfer: bool  # the payer is shown how to pay by bank first


def paid_on(payment: PaymentOut, invoice_id: int) -> int:
    return sum(a.amount_pence for a in payment.allocations if a.invoice_id == invoice_id)


async def get_document(db: AsyncSession, settings: Settings, viewer: Identity, invoice_id: int) -> InvoiceOut:
    """The document as the viewer may see it (tenants see only what was issued to them)."""
    return await invoices.invoice_out(db, await invoices.get_invoice(db, viewer, invoice_id), settings)


async def for_invoice(
    db: AsyncSession, settings: Settings, viewer: Identity, invoice_id: int
) -> InvoiceActions:
    """The document and what the viewer may do to it now: staff issue drafts, take payments on
    what is payable, credit lines with something left to credit and refund payments that paid
    it; payers (staff, the tenant) pay online when Stripe is set up, or are shown how to pay by
    bank when it is not."""
    doc = await get_document(db, settings, viewer, invoice_id)
    staff = viewer.role in STAFF
    is_invoice = doc.kind == rules.INVOICE
    issued = doc.status not in rules.UNISSUED_STATUSES
    rows: list[PaymentOut] = []
    if is_invoice and issued:
        rows = (await payments.list_payments(db, viewer, invoice_id=doc.id, per_page=200)).items
    refundable = [
        RefundablePayment(p, paid_on(p, doc.id))
        for p in rows
        if rules.is_refundable(p.amount_pence, paid_on(p, doc.id))
    ]
    left_to_credit = {line.id: line.net_pence - line.credited_net_pence for line in doc.lines}
    payable = rules.is_payable(doc.kind, doc.status, doc.outstanding_pence)
    return InvoiceActions(
        doc=doc,
        is_invoice=is_invoice,
        payments=rows,
        refundable=refundable,
        left_to_credit=left_to_credit,
        payable=payable,
        can_issue=staff and doc.status == "draft",
        can_pay=staff and payable,
        can_credit=staff and rules.is_creditable(doc.kind, doc.status, left_to_credit.values()),
        can_refund=staff and bool(refundable),
        show_pay_online=payable and settings.stripe_enabled and viewer.role in (*STAFF, Role.TENANT),
        # Staff have the instructions on the document itself; the payer needs them first.
        show_bank_transfer=payable and not settings.stripe_enabled and not staff,
    )
