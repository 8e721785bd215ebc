"""The money rules, each in one place: an invoice's status, and when it is open, payable,
creditable, refundable or overdue; what each way of paying is called.

The services, the pages, aged debt and the ledger check all ask here, so a rule changes in one
place. Each rule has a Python form (for an invoice in hand) and, where lists and reports filter
by it, an SQL form built from the same statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_

from hub.billing.models import DocumentKind, Invoice, InvoiceStatus, PaymentMethod
from hub.errors import InvalidInput

if TYPE_CHECKING:
    from hub.modules import Registry

INVOICE = DocumentKind.INVOICE.value

# Issued and not yet settled: what is owed, what aged debt ages, what a payment may settle.
OPEN_STATUSES: tuple[str, ...] = (InvoiceStatus.ISSUED.value, InvoiceStatus.PART_PAID.value)
# Issued and not credited in full: what a credit note may still credit.
CREDITABLE_STATUSES: tuple[str, ...] = (*OPEN_STATUSES, InvoiceStatus.PAID.value)
# Never issued (a draft) or never to be (a voided draft): not in the ledger, nothing owed.
UNISSUED_STATUSES: tuple[str, ...] = (InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value)

# One name for each way of paying, wherever it is shown (pages, statements, PDFs).
METHOD_LABELS: dict[str, str] = {
    PaymentMethod.BACS.value: "Bank transfer (BACS)",
    PaymentMethod.CASH.value: "Cash",
    PaymentMethod.CHEQUE.value: "Cheque",
    PaymentMethod.CARD.value: "Card at the desk",
    PaymentMethod.STRIPE.value: "Card online (Stripe)",
}
# The ways staff record a payment by hand (Stripe payments are recorded by Stripe's webhook).
DESK_METHODS: tuple[str, ...] = (
    PaymentMethod.BACS.value,
    PaymentMethod.CASH.value,
    PaymentMethod.CHEQUE.value,
    PaymentMethod.CARD.value,
)


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def status_for(kind: str, status: str, gross_pence: int, credited_pence: int, paid_pence: int) -> str:
    """What an issued invoice's amounts make it: credited, paid, part paid or issued (a credit
    note, once issued, stays issued; a draft or a void one keeps its status)."""
    if status in UNISSUED_STATUSES:
        return status
    if kind != INVOICE:
        return InvoiceStatus.ISSUED.value
    due = gross_pence - credited_pence
    if due <= 0:
        return InvoiceStatus.CREDITED.value
    if paid_pence >= due:
        return InvoiceStatus.PAID.value
    if paid_pence > 0:
        return InvoiceStatus.PART_PAID.value
    return InvoiceStatus.ISSUED.value


def invoice_status(invoice: Invoice) -> str:
    """The status ``invoice``'s amounts make it now (after a payment, a refund or a credit)."""
    return status_for(
        invoice.kind, invoice.status, invoice.gross_pence, invoice.credited_pence, invoice.paid_pence
    )


def derived_status(kind: str, number: int | None, voided: bool, gross: int, credited: int, paid: int) -> str:
    """The one status a document's number, voiding and amounts allow: no number → draft, or void
    once voided; a credit note with a number → issued; an invoice with one → by its amounts."""
    if number is None:
        return InvoiceStatus.VOID.value if voided else InvoiceStatus.DRAFT.value
    return status_for(kind, InvoiceStatus.ISSUED.value, gross, credited, paid)


def is_open(kind: str, status: str) -> bool:
    """An invoice (not a credit note) issued and not yet settled."""
    return kind == INVOICE and status in OPEN_STATUSES


def is_payable(kind: str, status: str, outstanding_pence: int) -> bool:
    """Open with something still owed: a payment may be taken against it."""
    return is_open(kind, status) and outstanding_pence > 0


def is_overdue(kind: str, status: str, due_date: date | None, outstanding_pence: int, on: date) -> bool:
    """Payable and past its due date on ``on`` (the building's today)."""
    return is_payable(kind, status, outstanding_pence) and due_date is not None and due_date < on


def is_creditable(kind: str, status: str, left_to_credit_pence: Iterable[int]) -> bool:
    """An issued invoice, not already credited in full, with some line left to credit."""
    return kind == INVOICE and status in CREDITABLE_STATUSES and any(v > 0 for v in left_to_credit_pence)


def is_refundable(amount_pence: int, paid_on_invoice_pence: int) -> bool:
    """A payment (not itself a refund) that paid something of the invoice may be refunded up to
    what it paid there."""
    return amount_pence > 0 and paid_on_invoice_pence > 0


def open_clause() -> Any:
    """SQL form of :func:`is_open`."""
    return and_(Invoice.kind == INVOICE, Invoice.status.in_(OPEN_STATUSES))


def overdue_clause(on: date) -> Any:
    """SQL form of :func:`is_overdue` (open invoices owe something by the status rule)."""
    return and_(open_clause(), Invoice.due_date < on)


def check_stream(registry: Registry, code: str, field: str = "stream") -> str:
    """``code`` if a module declares that income stream; else a 422 naming ``field`` and listing
    the streams there are."""
    if code not in registry.streams:
        known = ", ".join(sorted(registry.streams))
        raise InvalidInput(f"no income stream is called {code!r}; choose one of: {known}", field=field)
    return code


def check_source_type(registry: Registry, source_type: str, field: str = "source_type") -> str:
    """``source_type`` if a module declares that charge source; else a 422 naming ``field``."""
    if source_type not in registry.sources:
        known = ", ".join(sorted(registry.sources))
        raise InvalidInput(f"no charge source is called {source_type!r}; choose one of: {known}", field=field)
    return source_type
