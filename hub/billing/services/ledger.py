"""The income ledger: balanced journals written in the same transaction as the money they record.

Debits are positive, credits negative, and every journal sums to zero:

- an invoice debits ``debtors`` with its gross and credits ``income`` (by stream) and ``vat``;
- a credit note is the mirror image;
- a payment debits ``bank`` (or ``cash``) and credits ``debtors``; a refund is the mirror image;
- a closed till session debits ``cash``/``bank`` and credits café ``income`` and ``vat``;
- money held, not earned (a deposit, a gift paid in advance) sits in ``deposits_held`` or
  ``deferred`` until it is returned, kept or redeemed (a module writes those with
  :func:`post_journal`).

Rows are only ever added: the database refuses UPDATE and DELETE on ``ledger_entries``
(triggers in migration 0004). :func:`check` proves the ledger agrees with the documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing import rules
from hub.billing.models import (
    Charge,
    ChargeStatus,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerAccount,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    RefundStatus,
    StripeIntent,
    StripeRefund,
)
from hub.billing.schemas import LedgerCheck, LedgerEntryOut, LedgerPage
from hub.db import utcnow
from hub.modules import Registry
from hub.queries import page_of


def _entry(
    journal: str,
    entry_date: date,
    account: LedgerAccount,
    amount_pence: int,
    *,
    source_type: str,
    source_id: str,
    description: str,
    organisation_id: int | None = None,
    stream: str | None = None,
    vat_rate_bp: int | None = None,
    invoice_id: int | None = None,
    payment_id: int | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        journal=journal,
        posted_at=utcnow(),
        entry_date=entry_date,
        account=account.value,
        stream=stream,
        organisation_id=organisation_id,
        amount_pence=amount_pence,
        vat_rate_bp=vat_rate_bp,
        invoice_id=invoice_id,
        payment_id=payment_id,
        source_type=source_type,
        source_id=source_id,
        description=description[:300],
    )


def post_document(db: AsyncSession, document: Invoice) -> None:
    """An issued invoice (or credit note): debtors against income and VAT, line by line."""
    assert document.issue_date is not None and document.number_text is not None
    sign = 1 if document.kind == DocumentKind.INVOICE.value else -1
    kind = document.kind
    journal = f"{kind}:{document.id}"
    common = {
        "source_type": kind,
        "source_id": str(document.id),
        "organisation_id": document.organisation_id,
        "invoice_id": document.id,
    }
    db.add(
        _entry(
            journal,
            document.issue_date,
            LedgerAccount.DEBTORS,
            sign * document.gross_pence,
            description=f"{document.number_text} {document.customer_name}",
            **common,  # type: ignore[arg-type]
        )
    )
    for line in document.lines:
        db.add(
            _entry(
                journal,
                document.issue_date,
                LedgerAccount.INCOME,
                -sign * line.net_pence,
                stream=line.stream,
                vat_rate_bp=line.vat_rate_bp,
                description=f"{document.number_text}: {line.description}",
                **common,  # type: ignore[arg-type]
            )
        )
        if line.vat_pence:
            db.add(
                _entry(
                    journal,
                    document.issue_date,
                    LedgerAccount.VAT,
                    -sign * line.vat_pence,
                    stream=line.stream,
                    vat_rate_bp=line.vat_rate_bp,
                    description=f"{document.number_text}: VAT on {line.description}",
                    **common,  # type: ignore[arg-type]
                )
            )


def money_account(method: str) -> LedgerAccount:
    return LedgerAccount.CASH if method == PaymentMethod.CASH.value else LedgerAccount.BANK


def post_payment(db: AsyncSession, payment: Payment) -> None:
    """Money in (or, negative, a refund out): bank or cash against the organisation's debt."""
    kind = "refund" if payment.amount_pence < 0 else "payment"
    journal = f"payment:{payment.id}"
    label = f"{kind.capitalize()} {payment.method.upper()} {payment.reference}".strip()
    for account, amount in (
        (money_account(payment.method), payment.amount_pence),
        (LedgerAccount.DEBTORS, -payment.amount_pence),
    ):
        db.add(
            _entry(
                journal,
                payment.received_on,
                account,
                amount,
                source_type=kind,
                source_id=str(payment.id),
                description=label,
                organisation_id=payment.organisation_id,
                payment_id=payment.id,
            )
        )


# Modules that keep money of their own in the ledger (a till's sessions, tenants' deposits) prove
# it agrees with their records by providing, under this name (``hub.modules.Module.provides``),
# ``async def check(db: AsyncSession) -> list[str]`` answering the problems found (none: agrees).
LEDGER_CHECKS = "billing.ledger_checks"

LedgerCheckProvider = Callable[[AsyncSession], Awaitable[list[str]]]


@dataclass(frozen=True)
class JournalLine:
    """One side of a journal a module writes: debit positive, credit negative."""

    account: LedgerAccount
    amount_pence: int
    stream: str | None = None
    vat_rate_bp: int | None = None
    organisation_id: int | None = None


def post_journal(
    db: AsyncSession,
    *,
    journal: str,
    entry_date: date,
    source_type: str,
    source_id: str,
    description: str,
    lines: list[JournalLine],
) -> None:
    """Add one balanced journal (in the caller's transaction). Refuses one that does not sum to
    zero, an income line without a stream, or an empty one, so a module cannot unbalance the books."""
    if not lines or any(line.amount_pence == 0 for line in lines):
        raise ValueError("a journal needs lines, none of them zero")
    if sum(line.amount_pence for line in lines) != 0:
        raise ValueError(f"journal {journal} does not balance")
    for line in lines:
        if line.account in (LedgerAccount.INCOME, LedgerAccount.VAT) and not line.stream:
            raise ValueError("income and VAT lines name their income stream")
        db.add(
            _entry(
                journal,
                entry_date,
                line.account,
                line.amount_pence,
                source_type=source_type,
                source_id=source_id,
                description=description,
                organisation_id=line.organisation_id,
                stream=line.stream,
                vat_rate_bp=line.vat_rate_bp,
            )
        )


@dataclass(frozen=True)
class TakingsLine:
    net_pence: int
    vat_pence: int
    vat_rate_bp: int


def post_takings(
    db: AsyncSession,
    *,
    source_type: str,
    source_id: str,
    entry_date: date,
    lines: list[TakingsLine],
    cash_pence: int,
    card_pence: int,
    description: str,
    stream: str,
) -> None:
    """A closed till session's takings (the café module calls this when it cashes up), as
    income of ``stream`` (an income stream's code, as the module declares it)."""
    gross = sum(line.net_pence + line.vat_pence for line in lines)
    if gross != cash_pence + card_pence:
        raise ValueError("takings by payment method must add up to the sales")
    journal = f"{source_type}:{source_id}"
    common = {"source_type": source_type, "source_id": source_id, "description": description}
    if cash_pence:
        db.add(_entry(journal, entry_date, LedgerAccount.CASH, cash_pence, **common))  # type: ignore[arg-type]
    if card_pence:
        db.add(_entry(journal, entry_date, LedgerAccount.BANK, card_pence, **common))  # type: ignore[arg-type]
    for line in lines:
        db.add(
            _entry(
                journal,
                entry_date,
                LedgerAccount.INCOME,
                -line.net_pence,
                stream=stream,
                vat_rate_bp=line.vat_rate_bp,
                **common,  # type: ignore[arg-type]
            )
        )
        if line.vat_pence:
            db.add(
                _entry(
                    journal,
                    entry_date,
                    LedgerAccount.VAT,
                    -line.vat_pence,
                    stream=stream,
                    vat_rate_bp=line.vat_rate_bp,
                    **common,  # type: ignore[arg-type]
                )
            )


def entry_out(entry: LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=entry.id,
        journal=entry.journal,
        posted_at=entry.posted_at,
        entry_date=entry.entry_date,
        account=entry.account,
        stream=entry.stream,
        organisation_id=entry.organisation_id,
        amount_pence=entry.amount_pence,
        vat_rate_bp=entry.vat_rate_bp,
        invoice_id=entry.invoice_id,
        payment_id=entry.payment_id,
        source_type=entry.source_type,
        source_id=entry.source_id,
        description=entry.description,
    )


async def list_entries(
    db: AsyncSession,
    *,
    since: date | None = None,
    until: date | None = None,
    account: str | None = None,
    stream: str | None = None,
    organisation_id: int | None = None,
    page: int = 1,
    per_page: int = 100,
) -> LedgerPage:
    conditions = []
    if since is not None:
        conditions.append(LedgerEntry.entry_date >= since)
    if until is not None:
        conditions.append(LedgerEntry.entry_date <= until)
    if account:
        conditions.append(LedgerEntry.account == account)
    if stream:
        conditions.append(LedgerEntry.stream == stream)
    if organisation_id is not None:
        conditions.append(LedgerEntry.organisation_id == organisation_id)
    found = await page_of(
        db,
        select(LedgerEntry).where(*conditions).order_by(LedgerEntry.entry_date.desc(), LedgerEntry.id.desc()),
        page=page,
        per_page=per_page,
    )
    return LedgerPage(
        items=[entry_out(e) for e in found.rows], total=found.total, page=page, per_page=per_page
    )


@dataclass(frozen=True)
class _Document:
    """The columns of an invoice or credit note the check needs (no ORM objects: 20,000 of them
    would cost more to build than to check)."""

    id: int
    kind: str
    status: str
    number: int | None
    number_text: str | None
    organisation_id: int
    net_pence: int
    vat_pence: int
    gross_pence: int
    paid_pence: int
    credited_pence: int
    original_invoice_id: int | None
    voided_at: datetime | None

    @property
    def name(self) -> str:
        return self.number_text or f"draft {self.id}"

    @property
    def sign(self) -> int:
        return 1 if self.kind == DocumentKind.INVOICE.value else -1


async def check(
    db: AsyncSession, *, pending_after: timedelta | None = None, registry: Registry | None = None
) -> LedgerCheck:
    """Prove the ledger agrees with invoices, credit notes, payments, allocations and charges;
    that every document's status is the one its number and amounts make it; that no credit note
    credits more net or VAT than its line carried; and (with ``pending_after``) that nothing
    asked of Stripe has been left pending longer than that. With the app's ``registry``, each
    module's own check (:data:`LEDGER_CHECKS`) runs too and its problems are listed with these.

    Each rule compares whole-table aggregates grouped by document or payment, so the check is a
    fixed handful of queries and linear in the size of the history.
    """
    problems: list[str] = []

    # 1. Every journal balances.
    journals = (
        await db.execute(
            select(LedgerEntry.journal, func.sum(LedgerEntry.amount_pence), func.count()).group_by(
                LedgerEntry.journal
            )
        )
    ).all()
    entry_count = sum(int(count) for _, _, count in journals)
    for journal, total, _ in journals:
        if int(total or 0) != 0:
            problems.append(f"journal {journal} does not balance: it sums to {int(total)}p")

    # 2. Documents: each issued one is in the ledger exactly as its lines say; drafts never are.
    documents = [
        _Document(**row._asdict())
        for row in (
            await db.execute(
                select(
                    Invoice.id,
                    Invoice.kind,
                    Invoice.status,
                    Invoice.number,
                    Invoice.number_text,
                    Invoice.organisation_id,
                    Invoice.net_pence,
                    Invoice.vat_pence,
                    Invoice.gross_pence,
                    Invoice.paid_pence,
                    Invoice.credited_pence,
                    Invoice.original_invoice_id,
                    Invoice.voided_at,
                ).order_by(Invoice.id)
            )
        ).all()
    ]
    lines_by_stream: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for invoice_id, stream, net, vat in (
        await db.execute(
            select(
                InvoiceLine.invoice_id,
                InvoiceLine.stream,
                func.sum(InvoiceLine.net_pence),
                func.sum(InvoiceLine.vat_pence),
            ).group_by(InvoiceLine.invoice_id, InvoiceLine.stream)
        )
    ).all():
        lines_by_stream[int(invoice_id)][stream] = (int(net or 0), int(vat or 0))
    for invoice_id, position in (
        await db.execute(
            select(InvoiceLine.invoice_id, InvoiceLine.position).where(
                InvoiceLine.gross_pence != InvoiceLine.net_pence + InvoiceLine.vat_pence
            )
        )
    ).all():
        problems.append(f"document {invoice_id}: line {position} gross is not net + VAT")
    in_ledger: dict[int, dict[tuple[str, str | None], int]] = defaultdict(dict)
    for entry_invoice, account, entry_stream, amount in (
        await db.execute(
            select(
                LedgerEntry.invoice_id,
                LedgerEntry.account,
                LedgerEntry.stream,
                func.sum(LedgerEntry.amount_pence),
            )
            .where(LedgerEntry.invoice_id.is_not(None), LedgerEntry.payment_id.is_(None))
            .group_by(LedgerEntry.invoice_id, LedgerEntry.account, LedgerEntry.stream)
        )
    ).all():
        key = (account, None if account == LedgerAccount.DEBTORS.value else entry_stream)
        entries = in_ledger[int(entry_invoice or 0)]
        entries[key] = entries.get(key, 0) + int(amount or 0)
    credited: dict[int, int] = defaultdict(int)
    for doc in documents:
        if doc.kind == DocumentKind.CREDIT_NOTE.value and doc.original_invoice_id is not None:
            credited[doc.original_invoice_id] += doc.gross_pence
    for doc in documents:
        streams = lines_by_stream.get(doc.id, {})
        line_net = sum(net for net, _ in streams.values())
        line_vat = sum(vat for _, vat in streams.values())
        if (doc.net_pence, doc.vat_pence, doc.gross_pence) != (line_net, line_vat, line_net + line_vat):
            problems.append(f"{doc.name}: totals differ from the sum of its lines")
        expected: dict[tuple[str, str | None], int] = {}
        if doc.number is not None:
            expected[(LedgerAccount.DEBTORS.value, None)] = doc.sign * doc.gross_pence
            for stream, (net, vat) in streams.items():
                expected[(LedgerAccount.INCOME.value, stream)] = -doc.sign * net
                expected[(LedgerAccount.VAT.value, stream)] = -doc.sign * vat
        actual = in_ledger.get(doc.id, {})
        if {k: v for k, v in expected.items() if v} != {k: v for k, v in actual.items() if v}:
            problems.append(f"{doc.name}: ledger entries differ from the document")
        if doc.kind == DocumentKind.INVOICE.value and doc.credited_pence != credited.get(doc.id, 0):
            problems.append(f"{doc.name}: credited amount differs from its credit notes")
    known_documents = {doc.id for doc in documents}
    for invoice_id in in_ledger:
        if invoice_id not in known_documents:
            problems.append(f"ledger names invoice {invoice_id}, which does not exist")

    # 3. Payments: each is in the ledger once, for its amount; allocations match invoices.
    payments = (
        await db.execute(select(Payment.id, Payment.method, Payment.amount_pence, Payment.organisation_id))
    ).all()
    ledger_payments: dict[int, dict[str, int]] = defaultdict(dict)
    for payment_id, account, amount in (
        await db.execute(
            select(LedgerEntry.payment_id, LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
            .where(LedgerEntry.payment_id.is_not(None))
            .group_by(LedgerEntry.payment_id, LedgerEntry.account)
        )
    ).all():
        ledger_payments[int(payment_id or 0)][account] = int(amount or 0)
    allocated: dict[int, int] = defaultdict(int)
    paid_on: dict[int, int] = defaultdict(int)
    for payment_id, invoice_id, amount in (
        await db.execute(
            select(
                PaymentAllocation.payment_id,
                PaymentAllocation.invoice_id,
                func.sum(PaymentAllocation.amount_pence),
            ).group_by(PaymentAllocation.payment_id, PaymentAllocation.invoice_id)
        )
    ).all():
        allocated[int(payment_id)] += int(amount or 0)
        paid_on[int(invoice_id)] += int(amount or 0)
    for payment_id, method, amount, _ in payments:
        expected_payment = {money_account(method).value: amount, LedgerAccount.DEBTORS.value: -amount}
        if expected_payment != ledger_payments.get(payment_id, {}):
            problems.append(f"payment {payment_id}: ledger entries differ from the payment")
        spread = allocated.get(payment_id, 0)
        if amount >= 0 and not 0 <= spread <= amount:
            problems.append(f"payment {payment_id}: allocated {spread}p of {amount}p")
        if amount < 0 and not amount <= spread <= 0:
            problems.append(f"refund {payment_id}: allocated {spread}p of {amount}p")
    for doc in documents:
        if doc.kind != DocumentKind.INVOICE.value:
            continue
        if doc.paid_pence != paid_on.get(doc.id, 0):
            problems.append(
                f"{doc.name}: paid {doc.paid_pence}p but its allocations add up to {paid_on.get(doc.id, 0)}p"
            )
        if doc.number is not None and doc.gross_pence - doc.credited_pence - doc.paid_pence < 0:
            problems.append(f"{doc.name}: more paid and credited than invoiced")
    for doc in documents:
        should_be = rules.derived_status(
            doc.kind,
            doc.number,
            doc.voided_at is not None,
            doc.gross_pence,
            doc.credited_pence,
            doc.paid_pence,
        )
        if doc.status != should_be:
            problems.append(f"{doc.name}: status {doc.status} but its number and amounts say {should_be}")
        if doc.number is None and doc.number_text is not None:
            problems.append(f"{doc.name}: has a number's text but no number")

    # 3c. No credit note credits more of a line, net or VAT, than the line carried; a line
    # credited in full has had exactly its VAT credited.
    original_lines = {
        int(line_id): (int(net), int(vat))
        for line_id, net, vat in (
            await db.execute(
                select(InvoiceLine.id, InvoiceLine.net_pence, InvoiceLine.vat_pence)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(Invoice.kind == DocumentKind.INVOICE.value)
            )
        ).all()
    }
    for line_id, net, vat in (
        await db.execute(
            select(
                InvoiceLine.credits_line_id,
                func.sum(InvoiceLine.net_pence),
                func.sum(InvoiceLine.vat_pence),
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.credits_line_id.is_not(None), Invoice.number.is_not(None))
            .group_by(InvoiceLine.credits_line_id)
        )
    ).all():
        line_net, line_vat = original_lines.get(int(line_id or 0), (0, 0))
        credited_net, credited_vat = int(net or 0), int(vat or 0)
        if credited_net > line_net:
            problems.append(f"invoice line {line_id}: {credited_net}p net credited of {line_net}p")
        if credited_vat > line_vat:
            problems.append(f"invoice line {line_id}: {credited_vat}p VAT credited of {line_vat}p charged")
        elif credited_net == line_net and credited_vat != line_vat:
            problems.append(
                f"invoice line {line_id}: credited in full "
                f"but {credited_vat}p of its {line_vat}p VAT credited"
            )

    # 3b. Charges and invoice lines point at each other: an invoiced charge is on exactly the
    # invoice it names, and a live invoice's lines are its charges.
    line_of_charge: dict[int, list[int]] = defaultdict(list)
    for line_charge, line_invoice in (
        await db.execute(
            select(InvoiceLine.charge_id, InvoiceLine.invoice_id)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.charge_id.is_not(None), Invoice.status != InvoiceStatus.VOID.value)
        )
    ).all():
        line_of_charge[int(line_charge or 0)].append(int(line_invoice))
    for charge_id, status, charge_invoice in (
        await db.execute(select(Charge.id, Charge.status, Charge.invoice_id))
    ).all():
        on = line_of_charge.get(charge_id, [])
        if status == ChargeStatus.INVOICED.value and on != [charge_invoice]:
            problems.append(f"charge {charge_id} says invoice {charge_invoice} but is on {on or 'none'}")
        if status != ChargeStatus.INVOICED.value and on:
            problems.append(f"charge {charge_id} is {status} but is on invoice {on}")

    # 4. Each organisation's debtor balance is what its documents and payments say.
    debtors = dict(
        (
            await db.execute(
                select(LedgerEntry.organisation_id, func.sum(LedgerEntry.amount_pence))
                .where(LedgerEntry.account == LedgerAccount.DEBTORS.value)
                .group_by(LedgerEntry.organisation_id)
            )
        ).all()
    )
    owed: dict[int, int] = defaultdict(int)
    for doc in documents:
        if doc.number is not None:
            owed[doc.organisation_id] += doc.sign * doc.gross_pence
    for _, _, amount, organisation_id in payments:
        owed[organisation_id] -= amount
    for org_id in set(owed) | {k for k in debtors if k is not None}:
        if int(debtors.get(org_id, 0) or 0) != owed.get(org_id, 0):
            problems.append(
                f"organisation {org_id}: ledger says it owes {int(debtors.get(org_id, 0) or 0)}p, "
                f"its invoices and payments say {owed.get(org_id, 0)}p"
            )

    # 5. Nothing asked of Stripe is left hanging: a crash or a timeout between asking and
    # recording leaves a pending row, which `hubkeeper stripe reconcile` settles.
    if pending_after is not None:
        cutoff = utcnow() - pending_after
        for attempt_id, invoice_id in (
            await db.execute(
                select(StripeIntent.id, StripeIntent.invoice_id).where(
                    StripeIntent.status == "pending", StripeIntent.created_at < cutoff
                )
            )
        ).all():
            problems.append(
                f"Pay now attempt {attempt_id} for invoice {invoice_id} is still pending with Stripe "
                "(run `hubkeeper stripe reconcile`)"
            )
        for request_id, payment_id, amount in (
            await db.execute(
                select(StripeRefund.id, StripeRefund.payment_id, StripeRefund.amount_pence).where(
                    StripeRefund.status == RefundStatus.PENDING.value, StripeRefund.created_at < cutoff
                )
            )
        ).all():
            problems.append(
                f"refund request {request_id} of {int(amount)}p from payment {payment_id} is still pending "
                "with Stripe (run `hubkeeper stripe reconcile`)"
            )

    if registry is not None:
        for module_check in registry.provided(LEDGER_CHECKS):
            problems.extend(await module_check(db))

    return LedgerCheck(
        ok=not problems,
        journals=len(journals),
        entries=entry_count,
        invoices=len(documents),
        payments=len(payments),
        problems=problems,
    )
