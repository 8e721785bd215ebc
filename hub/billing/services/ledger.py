"""The income ledger: balanced journals written in the same transaction as the money they record.

Debits are positive, credits negative, and every journal sums to zero:

- an invoice debits ``debtors`` with its gross and credits ``income`` (by stream) and ``vat``;
- a credit note is the mirror image;
- a payment debits ``bank`` (or ``cash``) and credits ``debtors``; a refund is the mirror image;
- a closed till session debits ``cash``/``bank`` and credits café ``income`` and ``vat``.

Rows are only ever added: the database refuses UPDATE and DELETE on ``ledger_entries``
(triggers in migration 0004). :func:`check` proves the ledger agrees with the documents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.models import (
    Charge,
    ChargeStatus,
    DocumentKind,
    IncomeStream,
    Invoice,
    InvoiceStatus,
    LedgerAccount,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentMethod,
)
from hub.billing.schemas import LedgerCheck, LedgerEntryOut, LedgerPage
from hub.db import utcnow


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
) -> None:
    """A closed till session's takings (the café module calls this when it cashes up)."""
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
        stream = IncomeStream.CAFE.value
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
    total = await db.scalar(select(func.count()).select_from(LedgerEntry).where(*conditions)) or 0
    rows = await db.scalars(
        select(LedgerEntry)
        .where(*conditions)
        .order_by(LedgerEntry.entry_date.desc(), LedgerEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return LedgerPage(items=[entry_out(e) for e in rows], total=total, page=page, per_page=per_page)


async def check(db: AsyncSession) -> LedgerCheck:
    """Prove the ledger agrees with invoices, credit notes, payments and allocations.

    Each rule is a whole-table aggregate, so the check costs a handful of queries however big
    the hub's history is.
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
    documents = list(await db.scalars(select(Invoice)))
    by_document: dict[tuple[int, str, str | None], int] = defaultdict(int)
    for invoice_id, account, stream, amount in (
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
        key_stream = None if account == LedgerAccount.DEBTORS.value else stream
        by_document[(int(invoice_id or 0), account, key_stream)] += int(amount)
    credited: dict[int, int] = defaultdict(int)
    for doc in documents:
        if doc.kind == DocumentKind.CREDIT_NOTE.value and doc.original_invoice_id is not None:
            credited[doc.original_invoice_id] += doc.gross_pence
    for doc in documents:
        name = doc.number_text or f"draft {doc.id}"
        line_net = sum(line.net_pence for line in doc.lines)
        line_vat = sum(line.vat_pence for line in doc.lines)
        if (doc.net_pence, doc.vat_pence, doc.gross_pence) != (line_net, line_vat, line_net + line_vat):
            problems.append(f"{name}: totals differ from the sum of its lines")
        for line in doc.lines:
            if line.gross_pence != line.net_pence + line.vat_pence:
                problems.append(f"{name}: line {line.position} gross is not net + VAT")
        in_ledger = doc.number is not None
        expected: dict[tuple[int, str, str | None], int] = defaultdict(int)
        if in_ledger:
            sign = 1 if doc.kind == DocumentKind.INVOICE.value else -1
            expected[(doc.id, LedgerAccount.DEBTORS.value, None)] = sign * doc.gross_pence
            for line in doc.lines:
                expected[(doc.id, LedgerAccount.INCOME.value, line.stream)] -= sign * line.net_pence
                if line.vat_pence:
                    expected[(doc.id, LedgerAccount.VAT.value, line.stream)] -= sign * line.vat_pence
        actual = {k: v for k, v in by_document.items() if k[0] == doc.id}
        if {k: v for k, v in expected.items() if v} != {k: v for k, v in actual.items() if v}:
            problems.append(f"{name}: ledger entries differ from the document")
        if doc.kind == DocumentKind.INVOICE.value and doc.credited_pence != credited.get(doc.id, 0):
            problems.append(f"{name}: credited amount differs from its credit notes")
    known_documents = {doc.id for doc in documents}
    for invoice_id, _, _ in by_document:
        if invoice_id not in known_documents:
            problems.append(f"ledger names invoice {invoice_id}, which does not exist")

    # 3. Payments: each is in the ledger once, for its amount; allocations match invoices.
    payments = list(await db.scalars(select(Payment)))
    ledger_payments: dict[tuple[int, str], int] = defaultdict(int)
    for payment_id, account, amount in (
        await db.execute(
            select(LedgerEntry.payment_id, LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
            .where(LedgerEntry.payment_id.is_not(None))
            .group_by(LedgerEntry.payment_id, LedgerEntry.account)
        )
    ).all():
        ledger_payments[(int(payment_id or 0), account)] += int(amount)
    allocated: dict[int, int] = defaultdict(int)
    paid_on: dict[int, int] = defaultdict(int)
    for payment_id, invoice_id, amount in (
        await db.execute(
            select(PaymentAllocation.payment_id, PaymentAllocation.invoice_id, PaymentAllocation.amount_pence)
        )
    ).all():
        allocated[int(payment_id)] += int(amount)
        paid_on[int(invoice_id)] += int(amount)
    for payment in payments:
        money = money_account(payment.method).value
        expected_payment = {
            (payment.id, money): payment.amount_pence,
            (payment.id, LedgerAccount.DEBTORS.value): -payment.amount_pence,
        }
        actual_payment = {k: v for k, v in ledger_payments.items() if k[0] == payment.id}
        if expected_payment != actual_payment:
            problems.append(f"payment {payment.id}: ledger entries differ from the payment")
        spread = allocated.get(payment.id, 0)
        if payment.amount_pence >= 0 and not 0 <= spread <= payment.amount_pence:
            problems.append(f"payment {payment.id}: allocated {spread}p of {payment.amount_pence}p")
        if payment.amount_pence < 0 and not payment.amount_pence <= spread <= 0:
            problems.append(f"refund {payment.id}: allocated {spread}p of {payment.amount_pence}p")
    for doc in documents:
        if doc.kind != DocumentKind.INVOICE.value:
            continue
        name = doc.number_text or f"draft {doc.id}"
        if doc.paid_pence != paid_on.get(doc.id, 0):
            problems.append(
                f"{name}: paid {doc.paid_pence}p but its allocations add up to {paid_on.get(doc.id, 0)}p"
            )
        if doc.status not in (InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value):
            if doc.outstanding_pence < 0:
                problems.append(f"{name}: more paid and credited than invoiced")
            if doc.status != invoice_status(doc):
                problems.append(f"{name}: status {doc.status} but its amounts say {invoice_status(doc)}")

    # 3b. Charges and invoice lines point at each other: an invoiced charge is on exactly the
    # invoice it names, and a live invoice's lines are its charges.
    line_of_charge: dict[int, list[int]] = defaultdict(list)
    for doc in documents:
        if doc.status == InvoiceStatus.VOID.value:
            continue
        for line in doc.lines:
            if line.charge_id is not None:
                line_of_charge[line.charge_id].append(doc.id)
    for charge_id, status, invoice_id in (
        await db.execute(select(Charge.id, Charge.status, Charge.invoice_id))
    ).all():
        on = line_of_charge.get(charge_id, [])
        if status == ChargeStatus.INVOICED.value and on != [invoice_id]:
            problems.append(f"charge {charge_id} says invoice {invoice_id} but is on {on or 'none'}")
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
            owed[doc.organisation_id] += doc.gross_pence * (
                1 if doc.kind == DocumentKind.INVOICE.value else -1
            )
    for payment in payments:
        owed[payment.organisation_id] -= payment.amount_pence
    for org_id in set(owed) | {k for k in debtors if k is not None}:
        if int(debtors.get(org_id, 0) or 0) != owed.get(org_id, 0):
            problems.append(
                f"organisation {org_id}: ledger says it owes {int(debtors.get(org_id, 0) or 0)}p, "
                f"its invoices and payments say {owed.get(org_id, 0)}p"
            )

    return LedgerCheck(
        ok=not problems,
        journals=len(journals),
        entries=entry_count,
        invoices=len(documents),
        payments=len(payments),
        problems=problems,
    )


def invoice_status(invoice: Invoice) -> str:
    """What an issued invoice's amounts make it: credited, paid, part paid or issued."""
    if invoice.status in (InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value):
        return invoice.status
    if invoice.kind == DocumentKind.CREDIT_NOTE.value:
        return InvoiceStatus.ISSUED.value
    due = invoice.gross_pence - invoice.credited_pence
    if due <= 0:
        return InvoiceStatus.CREDITED.value
    if invoice.paid_pence >= due:
        return InvoiceStatus.PAID.value
    if invoice.paid_pence > 0:
        return InvoiceStatus.PART_PAID.value
    return InvoiceStatus.ISSUED.value
