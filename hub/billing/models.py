"""The money path's tables: charges, invoices and credit notes, payments, Stripe, the ledger.

Nothing here is ever deleted. A charge is cancelled, a draft invoice voided, an issued invoice
corrected by a credit note, a payment undone by a refund (a negative payment). The ledger is
append-only: the database itself refuses to update or delete its rows (see migration 0004).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, BigIntPK, UTCDateTime, utcnow
from hub.models import one_of

Pence = BigInteger().with_variant(Integer(), "sqlite")


class ChargeStatus(enum.StrEnum):
    OPEN = "open"  # not yet on an invoice
    INVOICED = "invoiced"  # on a draft or issued invoice
    CANCELLED = "cancelled"


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PART_PAID = "part_paid"
    PAID = "paid"
    VOID = "void"
    CREDITED = "credited"


class PaymentMethod(enum.StrEnum):
    BACS = "bacs"
    CASH = "cash"
    CHEQUE = "cheque"
    CARD = "card"
    STRIPE = "stripe"


class LedgerAccount(enum.StrEnum):
    DEBTORS = "debtors"  # what organisations owe (negative: credit they hold)
    INCOME = "income"  # net income, by stream
    VAT = "vat"  # output VAT owed to HMRC
    BANK = "bank"  # money received into the bank (BACS, cheque, card, Stripe)
    CASH = "cash"  # cash taken at the desk or the till
    # Money received that is not income, owed back or not yet earned (liabilities): a tenant's
    # deposit until it is returned or kept; money paid in advance for something given later
    # (a pay-it-forward gift, until it is redeemed).
    DEPOSITS_HELD = "deposits_held"
    DEFERRED = "deferred"


class Charge(Base):
    """Something billable, posted by a module (a hire fee, a cancellation fee, rent) or by hand."""

    __tablename__ = "charges"
    __table_args__ = (
        one_of("status", ChargeStatus),
        Index("ix_charges_organisation_status", "organisation_id", "status"),
        Index("ix_charges_source_key", "source_key"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    supply_date: Mapped[date] = mapped_column(Date)
    net_pence: Mapped[int] = mapped_column(Pence)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Pence)
    # An income stream's code, as a module declares it (no fixed list: see migration 0006).
    stream: Mapped[str] = mapped_column(String(32))
    # Where it came from: a charge source's type, as a module declares it ("manual" for those
    # added by hand), and the thing's id; the key ties repeated postings for the same thing
    # together (a hire fee is re-posted when its price changes).
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    source_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=ChargeStatus.OPEN.value)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class InvoiceSeries(Base):
    """A gap-free number sequence. The next number is taken by an UPDATE in the issuing
    transaction, so a rolled-back issue gives its number back and two issues never share one."""

    __tablename__ = "invoice_series"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An invoice or a credit note. Once issued, only its payment state moves."""

    __tablename__ = "invoices"
    __table_args__ = (
        one_of("kind", DocumentKind),
        one_of("status", InvoiceStatus),
        UniqueConstraint("series_prefix", "number", name="uq_invoices_series_number"),
        Index("ix_invoices_organisation_status", "organisation_id", "status"),
        # The overdue list and aged debt look for open invoices; lists page newest first.
        Index("ix_invoices_kind_status_due", "kind", "status", "due_date"),
        Index("ix_invoices_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    series_prefix: Mapped[str] = mapped_column(ForeignKey("invoice_series.prefix"))
    number: Mapped[int | None] = mapped_column(Integer)
    number_text: Mapped[str | None] = mapped_column(String(24), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # Names and addresses are copied: a later change to either never rewrites an invoice.
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_address: Mapped[str] = mapped_column(Text, default="")
    customer_email: Mapped[str | None] = mapped_column(String(254))
    supplier_name: Mapped[str] = mapped_column(String(200))
    supplier_address: Mapped[str] = mapped_column(Text, default="")
    supplier_vat_number: Mapped[str | None] = mapped_column(String(20))
    supplier_charity_number: Mapped[str | None] = mapped_column(String(20))
    issue_date: Mapped[date | None] = mapped_column(Date)
    tax_point: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    payment_instructions: Mapped[str] = mapped_column(Text, default="")
    net_pence: Mapped[int] = mapped_column(Pence, default=0)
    vat_pence: Mapped[int] = mapped_column(Pence, default=0)
    gross_pence: Mapped[int] = mapped_column(Pence, default=0)
    # Kept in step with allocations and credit notes (the ledger check proves they agree).
    paid_pence: Mapped[int] = mapped_column(Pence, default=0)
    credited_pence: Mapped[int] = mapped_column(Pence, default=0)
    original_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all", lazy="selectin"
    )

    @property
    def outstanding_pence(self) -> int:
        if self.kind != DocumentKind.INVOICE.value or self.status in ("draft", "void"):
            return 0
        return self.gross_pence - self.credited_pence - self.paid_pence


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charges.id"))
    # A credit note's line names the invoice line it credits.
    credits_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    supply_date: Mapped[date] = mapped_column(Date)
    net_pence: Mapped[int] = mapped_column(Pence)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Pence)
    gross_pence: Mapped[int] = mapped_column(Pence)
    stream: Mapped[str] = mapped_column(String(32))


class Payment(Base):
    """Money received (positive) or paid back (negative, a refund of ``refund_of_id``)."""

    __tablename__ = "payments"
    __table_args__ = (one_of("method", PaymentMethod), Index("ix_payments_organisation", "organisation_id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    method: Mapped[str] = mapped_column(String(16))
    amount_pence: Mapped[int] = mapped_column(Pence)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentAllocation(Base):
    """How much of a payment settles which invoice. A payment's unallocated rest is the
    organisation's credit; a negative allocation takes money back off an invoice."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Pence)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StripeIntent(Base):
    """A PaymentIntent asked of Stripe for an invoice ("Pay now"), and what became of it.

    The row is written and committed *before* Stripe is called (status ``pending``, no
    ``intent_id`` yet, its own idempotency key), so a crash or a timeout leaves a trace that
    ``hubkeeper stripe reconcile`` settles by asking Stripe again with the same key.
    """

    __tablename__ = "stripe_intents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount_pence: Mapped[int] = mapped_column(Pence)
    status: Mapped[str] = mapped_column(String(32))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # asked of Stripe (or about to be); not yet known to have happened
    SUCCEEDED = "succeeded"  # Stripe paid it back; the negative payment is recorded
    FAILED = "failed"  # Stripe refused or the refund failed; nothing was paid back


class StripeRefund(Base):
    """One request to refund a Stripe payment, written and committed before Stripe is called.

    Its idempotency key is its own (never derived from amounts), so asking Stripe again — a
    retry, the reconciler, a double submit carrying the same ``Idempotency-Key`` — is the same
    refund at Stripe. The negative :class:`Payment` is recorded only once Stripe says it
    succeeded (from the API's answer, the reconciler or a refund webhook, whichever is first).
    """

    __tablename__ = "stripe_refunds"
    __table_args__ = (Index("ix_stripe_refunds_pending", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount_pence: Mapped[int] = mapped_column(Pence)
    reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # The caller's Idempotency-Key (scoped to the caller), when the request carried one.
    request_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.PENDING.value)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    refund_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    last_error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeEvent(Base):
    """Each webhook event id, stored when processed, so a redelivery changes nothing."""

    __tablename__ = "stripe_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(Text, default="")


class LedgerEntry(Base):
    """One side of a balanced journal (debits positive, credits negative; a journal sums to 0)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        one_of("account", LedgerAccount),
        Index("ix_ledger_entries_journal", "journal"),
        Index("ix_ledger_entries_date", "entry_date"),
        Index("ix_ledger_entries_organisation", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    journal: Mapped[str] = mapped_column(String(60))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entry_date: Mapped[date] = mapped_column(Date)
    account: Mapped[str] = mapped_column(String(16))
    stream: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    amount_pence: Mapped[int] = mapped_column(Pence)
    vat_rate_bp: Mapped[int | None] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    # Till sessions live in the café module; the ledger names them by type and id only.
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300), default="")
