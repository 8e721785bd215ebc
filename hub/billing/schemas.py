"""msgspec Structs for charges, invoices, credit notes, payments, aged debt and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from hub.billing.models import PaymentMethod
from hub.schemas import MULTI_LINE_PATTERN, ONE_LINE_PATTERN, Id, Input

# Amounts people type: a penny up to a million pounds. Negative money is never typed in;
# it is what credit notes and refunds are for.
PositivePence = Annotated[int, Meta(ge=1, le=100_000_000, description="an amount in pence, at least 1")]
VatRate = Annotated[int, Meta(ge=0, le=10_000, description="VAT rate in basis points: 2000 = 20%")]
Description = Annotated[str, Meta(min_length=1, max_length=300, pattern=ONE_LINE_PATTERN)]
Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=MULTI_LINE_PATTERN)]
Reference = Annotated[str, Meta(max_length=200, pattern=ONE_LINE_PATTERN)]
Note = Annotated[str, Meta(max_length=2000, pattern=MULTI_LINE_PATTERN)]
Quantity = Annotated[int, Meta(ge=1, le=10_000)]
SeriesPrefix = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
# An income stream's or a charge source's code, as the modules declare them (hub.modules).
Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
SourceId = Annotated[str, Meta(min_length=1, max_length=64, pattern=ONE_LINE_PATTERN)]


class ChargeCreate(Input):
    """A manual charge (extra cleaning, a lost key): staff only."""

    organisation_id: Id
    description: Description
    net_pence: PositivePence
    supply_date: date
    quantity: Quantity = 1
    vat_rate_bp: VatRate = 0
    # One of the income streams the modules declare (checked against the app's registry).
    stream: Code = "other"


class CancelRequest(Input):
    reason: Reason


class ChargeOut(Struct):
    id: int
    organisation_id: int
    organisation: str
    description: str
    quantity: int
    supply_date: date
    net_pence: int
    vat_rate_bp: int
    vat_pence: int
    gross_pence: int
    stream: str
    source_type: str
    source_id: str | None
    status: str
    invoice_id: int | None
    created_at: datetime
    cancel_reason: str
    invoice_number: str | None = None


class ChargePage(Struct):
    items: list[ChargeOut]
    total: int
    page: int
    per_page: int


class InvoiceCreate(Input):
    """Gather an organisation's uninvoiced charges: the given ones, those of one source (a charge
    source type the modules declare and its id, both or neither), or all those supplied up to a
    date (default: all of them)."""

    organisation_id: Id
    charge_ids: Annotated[list[Id], Meta(max_length=500)] | None = None
    source_type: Code | None = None
    source_id: SourceId | None = None
    supplied_up_to: date | None = None
    issue: bool = True
    series: SeriesPrefix | None = None
    notes: Note = ""


class CreditLineIn(Input):
    line_id: Id
    net_pence: PositivePence


class CreditNoteCreate(Input):
    """Credit the whole invoice (no lines), or part of some of its lines (net amounts)."""

    reason: Reason
    lines: Annotated[list[CreditLineIn], Meta(max_length=500)] | None = None


class InvoiceLineOut(Struct):
    id: int
    position: int
    description: str
    quantity: int
    supply_date: date
    net_pence: int
    vat_rate_bp: int
    vat_pence: int
    gross_pence: int
    stream: str
    charge_id: int | None
    credits_line_id: int | None
    credited_net_pence: int = 0


class InvoiceOut(Struct):
    id: int
    kind: str
    status: str
    number: str | None
    organisation_id: int
    customer_name: str
    customer_address: list[str]
    customer_email: str | None
    supplier_name: str
    supplier_address: list[str]
    supplier_vat_number: str | None
    supplier_charity_number: str | None
    issue_date: date | None
    tax_point: date | None
    due_date: date | None
    payment_terms_days: int
    payment_instructions: str
    net_pence: int
    vat_pence: int
    gross_pence: int
    paid_pence: int
    credited_pence: int
    outstanding_pence: int
    overdue: bool
    original_invoice_id: int | None
    original_number: str | None
    reason: str
    notes: str
    void_reason: str
    created_at: datetime
    issued_at: datetime | None
    lines: list[InvoiceLineOut]
    credit_note_ids: list[int] = msgspec.field(default_factory=list)
    credit_notes: list[InvoiceSummary] = msgspec.field(default_factory=list)


class InvoiceSummary(Struct):
    id: int
    kind: str
    status: str
    number: str | None
    organisation_id: int
    customer_name: str
    issue_date: date | None
    due_date: date | None
    gross_pence: int
    paid_pence: int
    credited_pence: int
    outstanding_pence: int
    overdue: bool


class InvoicePage(Struct):
    items: list[InvoiceSummary]
    total: int
    page: int
    per_page: int


class AllocationIn(Input):
    invoice_id: Id
    amount_pence: PositivePence


class PaymentCreate(Input):
    """A payment received. Without allocations it settles the oldest outstanding invoices first;
    whatever is left is kept as the organisation's credit."""

    organisation_id: Id
    method: PaymentMethod
    amount_pence: PositivePence
    received_on: date
    reference: Reference = ""
    note: Note = ""
    allocations: Annotated[list[AllocationIn], Meta(max_length=100)] | None = None
    auto_allocate: bool = True


class AllocateRequest(Input):
    """Apply a payment's unallocated credit to an invoice."""

    invoice_id: Id
    amount_pence: PositivePence


class RefundCreate(Input):
    """Pay back part or all of a payment: from what it paid on ``invoice_id`` or, without one,
    from its unallocated credit."""

    amount_pence: PositivePence
    reason: Reason
    invoice_id: Id | None = None


class AllocationOut(Struct):
    invoice_id: int
    invoice_number: str | None
    amount_pence: int


class PaymentOut(Struct):
    id: int
    organisation_id: int
    organisation: str
    method: str
    amount_pence: int
    received_on: date
    reference: str
    note: str
    refund_of_id: int | None
    refunded_pence: int
    unallocated_pence: int
    stripe_payment_intent_id: str | None
    stripe_refund_id: str | None
    created_by: str
    created_at: datetime
    allocations: list[AllocationOut]


class PaymentPage(Struct):
    items: list[PaymentOut]
    total: int
    page: int
    per_page: int


class PayNowOut(Struct):
    payment_intent_id: str
    client_secret: str
    amount_pence: int
    currency: str
    publishable_key: str | None


class AgedDebtRow(Struct):
    organisation_id: int
    organisation: str
    current_pence: int
    days_30_pence: int
    days_60_pence: int
    days_90_plus_pence: int
    total_pence: int
    overdue_pence: int
    credit_pence: int


class AgedDebt(Struct):
    as_of: date
    rows: list[AgedDebtRow]
    totals: AgedDebtRow


class StatementEntry(Struct):
    date: date
    kind: Literal["invoice", "credit_note", "payment", "refund"]
    reference: str
    description: str
    debit_pence: int
    credit_pence: int
    balance_pence: int
    invoice_id: int | None
    payment_id: int | None


class Statement(Struct):
    organisation_id: int
    organisation: str
    address: list[str]
    from_date: date
    to_date: date
    opening_balance_pence: int
    closing_balance_pence: int
    entries: list[StatementEntry]
    open_invoices: list[InvoiceSummary]
    aged: AgedDebtRow


class LedgerEntryOut(Struct):
    id: int
    journal: str
    posted_at: datetime
    entry_date: date
    account: str
    stream: str | None
    organisation_id: int | None
    amount_pence: int
    vat_rate_bp: int | None
    invoice_id: int | None
    payment_id: int | None
    source_type: str
    source_id: str
    description: str


class LedgerPage(Struct):
    items: list[LedgerEntryOut]
    total: int
    page: int
    per_page: int


class LedgerCheck(Struct):
    ok: bool
    journals: int
    entries: int
    invoices: int
    payments: int
    problems: list[str]


class BillingRunResult(Struct):
    month: str
    invoices: list[InvoiceSummary]
    skipped: list[str]
    # What the modules' periodic charges (PERIODIC_CHARGES: rent, …) posted or passed over first.
    posted: list[str] = []
