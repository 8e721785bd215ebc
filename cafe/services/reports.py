"""The café's trading over a range of days, for the trustees' reports (``reports.cafe_trading``).

Building-local days, first and last inclusive; a sale counts on the day it was rung. Every figure is
a SQL aggregate (a fixed handful of queries whatever the range)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import (
    CafeTill,
    PifMovement,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SaleStatus,
    SessionStatus,
    Tender,
    TillSession,
)
from cafe.schemas import CafeTrading
from cafe.services.takings import GIVEN
from hub.config import Settings

PROVIDES = "reports.cafe_trading"


def _start(settings: Settings, day: date) -> datetime:
    return datetime.combine(day, time(0), settings.zone)


def _months(first: date, last: date) -> list[date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


async def cafe_trading(db: AsyncSession, settings: Settings, first: date, last: date) -> CafeTrading:
    """Takings (gross, net, VAT by rate, refunds taken off), transactions, average basket, top ten
    products, pay-it-forward given and redeemed, cash-up variances and takings by month."""
    start, end = _start(settings, first), _start(settings, last + timedelta(days=1))
    done = (Sale.status == SaleStatus.COMPLETED.value, Sale.rung_at >= start, Sale.rung_at < end)

    rates = {
        int(rate): [int(net or 0), int(vat or 0)]
        for rate, net, vat in (
            await db.execute(
                select(SaleLine.vat_rate_bp, func.sum(SaleLine.net_pence), func.sum(SaleLine.vat_pence))
                .join(Sale, Sale.id == SaleLine.sale_id)
                .where(*done)
                .group_by(SaleLine.vat_rate_bp)
            )
        ).all()
    }
    for rate, net, vat in (
        await db.execute(
            select(RefundLine.vat_rate_bp, func.sum(RefundLine.net_pence), func.sum(RefundLine.vat_pence))
            .join(Refund, Refund.id == RefundLine.refund_id)
            .where(Refund.at >= start, Refund.at < end)
            .group_by(RefundLine.vat_rate_bp)
        )
    ).all():
        entry = rates.setdefault(int(rate), [0, 0])
        entry[0] -= int(net or 0)
        entry[1] -= int(vat or 0)
    net_total = sum(net for net, _ in rates.values())
    vat_total = sum(vat for _, vat in rates.values())

    count, baskets = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(Sale.total_pence - Sale.gift_pence), 0)).where(*done)
        )
    ).one()
    transactions = int(count or 0)

    top = [
        (str(name), int(quantity or 0), int(gross or 0))
        for name, quantity, gross in (
            await db.execute(
                select(SaleLine.short_name, func.sum(SaleLine.quantity), func.sum(SaleLine.line_total_pence))
                .join(Sale, Sale.id == SaleLine.sale_id)
                .where(*done)
                .group_by(SaleLine.short_name)
                .order_by(func.sum(SaleLine.line_total_pence).desc(), SaleLine.short_name)
                .limit(10)
            )
        ).all()
    ]

    pool = {
        bool(given): (int(units or 0), int(value or 0))
        for given, units, value in (
            await db.execute(
                select(GIVEN, func.sum(PifMovement.units), func.sum(PifMovement.value_pence))
                .join(Sale, Sale.id == PifMovement.sale_id)
                .where(*done)
                .group_by(GIVEN)
            )
        ).all()
    }
    redeemed_pence = int(
        (
            await db.scalar(
                select(func.coalesce(func.sum(Tender.amount_pence), 0))
                .join(Sale, Sale.id == Tender.sale_id)
                .where(*done, Tender.method == "pay_it_forward")
            )
        )
        or 0
    )

    variances = [
        (
            int(session_id),
            str(till),
            (closed_at or start).astimezone(settings.zone).date(),
            int(variance or 0),
            str(reason),
        )
        for session_id, till, closed_at, variance, reason in (
            await db.execute(
                select(
                    TillSession.id,
                    CafeTill.name,
                    TillSession.closed_at,
                    TillSession.variance_pence,
                    TillSession.variance_reason,
                )
                .join(CafeTill, CafeTill.id == TillSession.till_id)
                .where(
                    TillSession.status == SessionStatus.CLOSED.value,
                    TillSession.closed_at >= start,
                    TillSession.closed_at < end,
                    TillSession.variance_pence != 0,
                )
                .order_by(TillSession.closed_at, TillSession.id)
            )
        ).all()
    ]

    months = _months(first, last)
    # Which month a sale falls in, by the local midnights that begin each month after the first
    # (grouped by its label, so PostgreSQL groups by the very expression it selects).
    bucket = (
        case(
            *[
                (Sale.rung_at < _start(settings, nxt), literal_column(str(i)))
                for i, nxt in enumerate(months[1:])
            ],
            else_=literal_column(str(len(months) - 1)),
        )
        if len(months) > 1
        else literal_column("0")
    ).label("month")
    by_bucket = {
        int(index): (int(gross or 0), int(n or 0))
        for index, gross, n in (
            await db.execute(
                select(bucket, func.sum(Sale.total_pence - Sale.gift_pence), func.count())
                .where(*done)
                # (one month: no grouping — SQLite would read "GROUP BY 0" as a column position)
                .group_by(*([bucket] if len(months) > 1 else []))
            )
        ).all()
    }
    return CafeTrading(
        first=first,
        last=last,
        takings_gross_pence=net_total + vat_total,
        takings_net_pence=net_total,
        takings_vat_pence=vat_total,
        transactions=transactions,
        average_basket_pence=(int(baskets) + transactions // 2) // transactions if transactions else 0,
        vat_by_rate=[(rate, net, vat) for rate, (net, vat) in sorted(rates.items())],
        top_products=top,
        pif_given_units=pool.get(True, (0, 0))[0],
        pif_given_pence=pool.get(True, (0, 0))[1],
        pif_redeemed_units=-pool.get(False, (0, 0))[0],
        pif_redeemed_pence=redeemed_pence,
        variances=variances,
        by_month=[(month, *by_bucket.get(i, (0, 0))) for i, month in enumerate(months)],
    )
