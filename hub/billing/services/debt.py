"""Aged debt and statements: who owes what, and for how long.

Debt is aged by the invoice date (current: under 30 days old; then 30–59, 60–89 and 90+ days),
the usual aged-debtors layout; "overdue" is what is past its due date. Unallocated payments are
shown as the organisation's credit and reduce its total.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from hub.auth import Identity
from hub.billing import rules
from hub.billing.models import DocumentKind, Invoice, Payment, PaymentAllocation
from hub.billing.schemas import AgedDebt, AgedDebtRow, Statement, StatementEntry
from hub.billing.services.invoices import summary_out
from hub.config import Settings
from hub.errors import InvalidInput
from hub.models import Organisation
from hub.queries import get_or_404


def _row(organisation_id: int, name: str) -> AgedDebtRow:
    return AgedDebtRow(
        organisation_id=organisation_id,
        organisation=name,
        current_pence=0,
        days_30_pence=0,
        days_60_pence=0,
        days_90_plus_pence=0,
        total_pence=0,
        overdue_pence=0,
        credit_pence=0,
    )


def _age(
    row: AgedDebtRow,
    kind: str,
    status: str,
    owed: int,
    issue_date: date | None,
    due_date: date | None,
    on: date,
) -> None:
    if owed <= 0 or issue_date is None:
        return
    days = (on - issue_date).days
    if days >= 90:
        row.days_90_plus_pence += owed
    elif days >= 60:
        row.days_60_pence += owed
    elif days >= 30:
        row.days_30_pence += owed
    else:
        row.current_pence += owed
    if rules.is_overdue(kind, status, due_date, owed, on):
        row.overdue_pence += owed
    row.total_pence += owed


async def credits_by_organisation(
    db: AsyncSession, organisation_ids: list[int] | None = None
) -> dict[int, int]:
    """Each organisation's unallocated money: payments less refunds less what they still cover."""
    paid = select(Payment.organisation_id, func.sum(Payment.amount_pence)).group_by(Payment.organisation_id)
    covered = (
        select(Payment.organisation_id, func.sum(PaymentAllocation.amount_pence))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .group_by(Payment.organisation_id)
    )
    if organisation_ids is not None:
        paid = paid.where(Payment.organisation_id.in_(organisation_ids))
        covered = covered.where(Payment.organisation_id.in_(organisation_ids))
    credit: dict[int, int] = defaultdict(int)
    for org_id, amount in (await db.execute(paid)).all():
        credit[int(org_id)] += int(amount or 0)
    for org_id, amount in (await db.execute(covered)).all():
        credit[int(org_id)] -= int(amount or 0)
    return {k: v for k, v in credit.items() if v}


async def aged_debt(
    db: AsyncSession, settings: Settings, *, on: date | None = None, organisation_id: int | None = None
) -> AgedDebt:
    """Every organisation that owes money or holds credit: three queries in all."""
    on = on or settings.today()
    # Plain columns, not Invoice objects: a hub with thousands of open invoices ages them all.
    query = (
        select(
            Invoice.organisation_id,
            Organisation.name,
            Invoice.kind,
            Invoice.status,
            Invoice.gross_pence - Invoice.credited_pence - Invoice.paid_pence,
            Invoice.issue_date,
            Invoice.due_date,
        )
        .join(Organisation, Organisation.id == Invoice.organisation_id)
        .where(rules.open_clause())
    )
    if organisation_id is not None:
        query = query.where(Invoice.organisation_id == organisation_id)
    rows: dict[int, AgedDebtRow] = {}
    for org_id, name, kind, status, owed, issue_date, due_date in (await db.execute(query)).all():
        row = rows.setdefault(org_id, _row(org_id, name))
        _age(row, kind, status, int(owed), issue_date, due_date, on)
    credits = await credits_by_organisation(db, [organisation_id] if organisation_id is not None else None)
    missing = [org_id for org_id in credits if org_id not in rows]
    if missing:
        for org_id, name in (
            await db.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(missing)))
        ).all():
            rows[org_id] = _row(org_id, name)
    for org_id, credit in credits.items():
        rows[org_id].credit_pence = credit
        rows[org_id].total_pence -= credit
    ordered = sorted(rows.values(), key=lambda r: (-r.total_pence, r.organisation))
    totals = _row(0, "All organisations")
    for row in ordered:
        totals.current_pence += row.current_pence
        totals.days_30_pence += row.days_30_pence
        totals.days_60_pence += row.days_60_pence
        totals.days_90_plus_pence += row.days_90_plus_pence
        totals.total_pence += row.total_pence
        totals.overdue_pence += row.overdue_pence
        totals.credit_pence += row.credit_pence
    return AgedDebt(as_of=on, rows=ordered, totals=totals)


async def statement(
    db: AsyncSession,
    settings: Settings,
    viewer: Identity,
    organisation_id: int,
    *,
    from_date: date | None = None,
    to_date: date | None = None,
) -> Statement:
    """An organisation's account: every invoice, credit note, payment and refund with a running
    balance (positive: they owe the hub), the invoices still open, and their debt by age."""
    viewer.require_organisation(organisation_id, "That organisation")
    org = await get_or_404(db, Organisation, organisation_id, "That organisation")
    on = settings.today()
    to_date = to_date or on
    from_date = from_date or (to_date - timedelta(days=365))
    if from_date > to_date:
        raise InvalidInput("the start must not be after the end", field="from")
    documents = list(
        await db.scalars(
            select(Invoice)
            .options(raiseload(Invoice.lines))
            .where(Invoice.organisation_id == org.id, Invoice.number.is_not(None))
            .order_by(Invoice.issue_date, Invoice.id)
        )
    )
    money = list(
        await db.scalars(
            select(Payment).where(Payment.organisation_id == org.id).order_by(Payment.received_on, Payment.id)
        )
    )
    events: list[tuple[date, int, StatementEntry]] = []
    for doc in documents:
        assert doc.issue_date is not None
        invoice = doc.kind == DocumentKind.INVOICE.value
        events.append(
            (
                doc.issue_date,
                0,
                StatementEntry(
                    date=doc.issue_date,
                    kind="invoice" if invoice else "credit_note",
                    reference=doc.number_text or "",
                    description=(f"Due {doc.due_date:%d %b %Y}" if invoice and doc.due_date else doc.reason)[
                        :200
                    ],
                    debit_pence=doc.gross_pence if invoice else 0,
                    credit_pence=0 if invoice else doc.gross_pence,
                    balance_pence=0,
                    invoice_id=doc.id,
                    payment_id=None,
                ),
            )
        )
    for payment in money:
        refund = payment.amount_pence < 0
        method = rules.method_label(payment.method)
        events.append(
            (
                payment.received_on,
                1,
                StatementEntry(
                    date=payment.received_on,
                    kind="refund" if refund else "payment",
                    reference=payment.reference or f"{method} {payment.id}",
                    description=(payment.note or method)[:200],
                    debit_pence=-payment.amount_pence if refund else 0,
                    credit_pence=0 if refund else payment.amount_pence,
                    balance_pence=0,
                    invoice_id=None,
                    payment_id=payment.id,
                ),
            )
        )
    events.sort(key=lambda e: (e[0], e[1], e[2].invoice_id or 0, e[2].payment_id or 0))
    opening = 0
    balance = 0
    entries: list[StatementEntry] = []
    for day, _, entry in events:
        balance += entry.debit_pence - entry.credit_pence
        if day < from_date:
            opening = balance
            continue
        if day > to_date:
            continue
        entry.balance_pence = balance
        entries.append(entry)
    closing = entries[-1].balance_pence if entries else opening
    open_invoices = [summary_out(d, on) for d in documents if rules.is_open(d.kind, d.status)]
    aged = await aged_debt(db, settings, on=on, organisation_id=org.id)
    address = [x for x in (org.address_line1, org.address_line2, org.town, org.postcode) if x]
    return Statement(
        organisation_id=org.id,
        organisation=org.name,
        address=address,
        from_date=from_date,
        to_date=to_date,
        opening_balance_pence=opening,
        closing_balance_pence=closing,
        entries=entries,
        open_invoices=open_invoices,
        aged=aged.rows[0] if aged.rows else _row(org.id, org.name),
    )
