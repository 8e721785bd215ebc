"""What a till session took, added up in the database: the one source of the X/Z report, the
ledger journal written at close, and the ledger check that proves them equal.

Every figure is a grouped aggregate over one session or all of them (a fixed handful of queries
whatever the number of sales). Voided sales count nowhere; refunds count in the session they were
given in (their cash left that drawer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import (
    PifMovement,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SaleStatus,
    Tender,
    TenderMethod,
    TillSession,
)
from hub.billing import JournalLine, LedgerAccount, post_journal
from hub.billing.models import LedgerEntry
from hub.config import Settings

STREAM = "cafe"
# Gifts into the pool (units > 0) apart from redemptions; a literal, not a bound parameter, so that
# PostgreSQL sees the same expression in SELECT and GROUP BY.
GIVEN = (PifMovement.units > literal_column("0")).label("given")
SOURCE_TYPE = "cafe_session"


@dataclass
class Takings:
    sales: int = 0
    late_sales: int = 0
    voids: int = 0
    voided_pence: int = 0
    gross_pence: int = 0
    net_pence: int = 0
    vat_pence: int = 0
    # vat_rate_bp -> [gross, net, vat] of the sales' lines
    by_rate: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    discounts_pence: int = 0
    discounts_by_code: dict[str, int] = field(default_factory=dict)
    gifts_pence: int = 0
    cash_pence: int = 0
    card_pence: int = 0
    pif_redeemed_pence: int = 0
    pif_redeemed_units: int = 0
    pif_given_pence: int = 0
    pif_given_units: int = 0
    refunds: int = 0
    refunds_pence: int = 0
    refunds_cash_pence: int = 0
    refunds_card_pence: int = 0
    refunds_vat_pence: int = 0
    # vat_rate_bp -> [net, vat] refunded
    refunds_by_rate: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def expected_cash(self, float_pence: int) -> int:
        return float_pence + self.cash_pence - self.refunds_cash_pence

    def ledger(self) -> dict[tuple[str, int | None], int]:
        """The session's journal as (account, VAT rate) → amount (debit positive): cash and card
        in less refunds out; income and VAT by rate; the pay-it-forward pool's money held
        (gifts in, as a liability) less what was redeemed (now earned, in income)."""
        amounts: dict[tuple[str, int | None], int] = defaultdict(int)
        amounts[(LedgerAccount.CASH.value, None)] += self.cash_pence - self.refunds_cash_pence
        amounts[(LedgerAccount.BANK.value, None)] += self.card_pence - self.refunds_card_pence
        amounts[(LedgerAccount.DEFERRED.value, None)] += self.pif_redeemed_pence - self.gifts_pence
        for rate, (_gross, net, vat) in self.by_rate.items():
            amounts[(LedgerAccount.INCOME.value, rate)] -= net
            amounts[(LedgerAccount.VAT.value, rate)] -= vat
        for rate, (net, vat) in self.refunds_by_rate.items():
            amounts[(LedgerAccount.INCOME.value, rate)] += net
            amounts[(LedgerAccount.VAT.value, rate)] += vat
        return {key: value for key, value in amounts.items() if value}


async def takings(db: AsyncSession, session_ids: Iterable[int] | None = None) -> dict[int, Takings]:
    """Each session's takings (all sessions when ``session_ids`` is None)."""
    ids = None if session_ids is None else list(session_ids)
    found: dict[int, Takings] = defaultdict(Takings)

    def only(column: Any, query: Any) -> Any:
        return query if ids is None else query.where(column.in_(ids))

    done = Sale.status == SaleStatus.COMPLETED.value
    sale_rows = await db.execute(
        only(
            Sale.session_id,
            select(
                Sale.session_id,
                Sale.status,
                func.count(),
                func.sum(Sale.total_pence),
                func.sum(Sale.gift_pence),
                func.sum(Sale.discount_pence),
                func.sum(cast(Sale.late, Integer)),
            ).group_by(Sale.session_id, Sale.status),
        )
    )
    for session_id, status, count, total, gifts, discount, late in sale_rows.all():
        t = found[int(session_id)]
        if status == SaleStatus.COMPLETED.value:
            t.sales += int(count)
            t.gifts_pence += int(gifts or 0)
            t.discounts_pence += int(discount or 0)
            t.late_sales += int(late or 0)
        else:
            t.voids += int(count)
            t.voided_pence += int(total or 0)

    discount_rows = await db.execute(
        only(
            Sale.session_id,
            select(Sale.session_id, Sale.discount_code, func.sum(Sale.discount_pence))
            .where(done, Sale.discount_code.is_not(None))
            .group_by(Sale.session_id, Sale.discount_code),
        )
    )
    for session_id, code, amount in discount_rows.all():
        found[int(session_id)].discounts_by_code[str(code)] = int(amount or 0)

    line_rows = await db.execute(
        only(
            Sale.session_id,
            select(
                Sale.session_id,
                SaleLine.vat_rate_bp,
                func.sum(SaleLine.line_total_pence),
                func.sum(SaleLine.net_pence),
                func.sum(SaleLine.vat_pence),
            )
            .join(Sale, Sale.id == SaleLine.sale_id)
            .where(done)
            .group_by(Sale.session_id, SaleLine.vat_rate_bp),
        )
    )
    for session_id, rate, gross, net, vat in line_rows.all():
        t = found[int(session_id)]
        t.by_rate[int(rate)] = [int(gross or 0), int(net or 0), int(vat or 0)]
        t.gross_pence += int(gross or 0)
        t.net_pence += int(net or 0)
        t.vat_pence += int(vat or 0)

    tender_rows = await db.execute(
        only(
            Sale.session_id,
            select(Sale.session_id, Tender.method, func.sum(Tender.amount_pence))
            .join(Sale, Sale.id == Tender.sale_id)
            .where(done)
            .group_by(Sale.session_id, Tender.method),
        )
    )
    for session_id, method, amount in tender_rows.all():
        t = found[int(session_id)]
        if method == TenderMethod.CASH.value:
            t.cash_pence = int(amount or 0)
        elif method == TenderMethod.CARD.value:
            t.card_pence = int(amount or 0)
        else:
            t.pif_redeemed_pence = int(amount or 0)

    pool_rows = await db.execute(
        only(
            Sale.session_id,
            select(
                Sale.session_id,
                GIVEN,
                func.sum(PifMovement.units),
                func.sum(PifMovement.value_pence),
            )
            .join(Sale, Sale.id == PifMovement.sale_id)
            .where(done)
            .group_by(Sale.session_id, GIVEN),
        )
    )
    for session_id, given, units, value in pool_rows.all():
        t = found[int(session_id)]
        if given:
            t.pif_given_units, t.pif_given_pence = int(units or 0), int(value or 0)
        else:
            t.pif_redeemed_units = -int(units or 0)

    refund_rows = await db.execute(
        only(
            Refund.session_id,
            select(
                Refund.session_id,
                Refund.method,
                func.count(),
                func.sum(Refund.amount_pence),
                func.sum(Refund.vat_pence),
            ).group_by(Refund.session_id, Refund.method),
        )
    )
    for session_id, method, count, amount, vat in refund_rows.all():
        t = found[int(session_id)]
        t.refunds += int(count)
        t.refunds_pence += int(amount or 0)
        t.refunds_vat_pence += int(vat or 0)
        if method == TenderMethod.CASH.value:
            t.refunds_cash_pence += int(amount or 0)
        else:
            t.refunds_card_pence += int(amount or 0)

    refund_line_rows = await db.execute(
        only(
            Refund.session_id,
            select(
                Refund.session_id,
                RefundLine.vat_rate_bp,
                func.sum(RefundLine.net_pence),
                func.sum(RefundLine.vat_pence),
            )
            .join(Refund, Refund.id == RefundLine.refund_id)
            .group_by(Refund.session_id, RefundLine.vat_rate_bp),
        )
    )
    for session_id, rate, net, vat in refund_line_rows.all():
        found[int(session_id)].refunds_by_rate[int(rate)] = [int(net or 0), int(vat or 0)]
    return found


async def session_takings(db: AsyncSession, session_id: int) -> Takings:
    return (await takings(db, [session_id])).get(session_id) or Takings()


async def in_ledger(
    db: AsyncSession, session_ids: Iterable[int] | None = None
) -> dict[int, dict[tuple[str, int | None], int]]:
    """What the ledger holds for each session, as (account, VAT rate) → amount."""
    query = select(
        LedgerEntry.source_id,
        LedgerEntry.account,
        LedgerEntry.vat_rate_bp,
        func.sum(LedgerEntry.amount_pence),
    ).where(LedgerEntry.source_type == SOURCE_TYPE)
    if session_ids is not None:
        query = query.where(LedgerEntry.source_id.in_([str(i) for i in session_ids]))
    found: dict[int, dict[tuple[str, int | None], int]] = defaultdict(dict)
    for source_id, account, rate, amount in (
        await db.execute(query.group_by(LedgerEntry.source_id, LedgerEntry.account, LedgerEntry.vat_rate_bp))
    ).all():
        if int(amount or 0):
            # Cash, bank and money held carry no rate in the journal; income and VAT do.
            key_rate = (
                None if account in ("cash", "bank", "deferred") else (None if rate is None else int(rate))
            )
            found[int(source_id)][(str(account), key_rate)] = found[int(source_id)].get(
                (str(account), key_rate), 0
            ) + int(amount)
    return found


def local_day(settings: Settings, session: TillSession) -> date:
    return session.opened_at.astimezone(settings.zone).date()


async def post_session(
    db: AsyncSession, settings: Settings, session: TillSession, till_name: str, *, journal: str
) -> None:
    """Bring the ledger up to the session's takings, in the caller's transaction: at close, the
    whole session; after a late sale (rung before the close, sent after it), the difference."""
    wanted = (await session_takings(db, session.id)).ledger()
    held = (await in_ledger(db, [session.id])).get(session.id, {})
    lines = []
    for key in sorted(set(wanted) | set(held), key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        amount = wanted.get(key, 0) - held.get(key, 0)
        if amount:
            account, rate = key
            stream = STREAM if account in ("income", "vat") else None
            lines.append(JournalLine(LedgerAccount(account), amount, stream=stream, vat_rate_bp=rate))
    if not lines:
        return
    post_journal(
        db,
        journal=journal,
        entry_date=local_day(settings, session),
        source_type=SOURCE_TYPE,
        source_id=str(session.id),
        description=f"Café takings, {till_name} session {session.id}",
        lines=lines,
    )


async def ledger_check(db: AsyncSession) -> list[str]:
    """The ledger check's café part: each closed session's takings are in the ledger exactly
    (by account and VAT rate); an open session has nothing there yet."""
    problems: list[str] = []
    statuses = dict((await db.execute(select(TillSession.id, TillSession.status))).all())
    wanted = await takings(db, None)
    held = await in_ledger(db, None)
    for session_id, status in sorted(statuses.items()):
        expected = wanted[session_id].ledger() if status == "closed" and session_id in wanted else {}
        actual = held.get(session_id, {})
        if expected != actual:
            differences = sorted(
                f"{account}{'' if rate is None else f' at {rate / 100:g}%'}: "
                f"ledger {actual.get((account, rate), 0)}p, till {expected.get((account, rate), 0)}p"
                for account, rate in set(expected) | set(actual)
                if expected.get((account, rate), 0) != actual.get((account, rate), 0)
            )
            problems.append(
                f"café session {session_id} ({status}) does not match the ledger: " + "; ".join(differences)
            )
    for source_id in held:
        if source_id not in statuses:
            problems.append(f"ledger entries name café session {source_id}, which does not exist")
    return problems
