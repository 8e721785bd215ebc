"""Sales at the till: priced and VAT'd line by line, paid by cash, card, split or the pay-it-forward
pool, recorded exactly once per till-made UUID; refunds and voids by a supervisor.

VAT: prices include VAT. Each line's VAT is ``gross × rate / (1 + rate)`` rounded half-up, taken on
the line's total after its discount and kept on the line with its rate (so a report's VAT is the sum
of its lines exactly). Hot food and drink are standard-rated whether eaten in or taken away; cold
food is zero-rated to take away and standard-rated eaten in (../shared/DOMAIN.md).

A sale sent again with the same UUID and the same content answers the first answer (a till that
lost the response retries); the same UUID with different content is refused (409). The UUID is
unique in the database, so two copies racing each other are recorded once.

Offline tills: a sale belongs to the session it was rung on. If that session has been closed since,
the sale is still accepted when it was rung before the close (``rung_at < closed_at``): it is
marked late, the session is marked amended (its expected cash and variance recomputed: the cash
was in the drawer when it was counted) and the difference is posted to the ledger in the same
transaction. A sale rung after the close is refused (409 naming ``session_id``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import msgspec
from sqlalchemy import case, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import (
    CafeDiscount,
    CafeModifier,
    CafeProduct,
    CafeTill,
    PifMovement,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SaleStatus,
    SessionStatus,
    Tender,
    TenderMethod,
    TillSession,
    VatKind,
)
from cafe.schemas import (
    GiftOut,
    Receipt,
    ReceiptLine,
    ReceiptRate,
    RefundIn,
    RefundLineOut,
    RefundOut,
    SaleIn,
    SaleLineOut,
    SaleOut,
    SaleSummary,
    TenderOut,
    VoidIn,
)
from cafe.services import menu as menu_service
from cafe.services import takings as takings_service
from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import Conflict, FieldError, InvalidInput, NotFound
from hub.money import proportion_pence
from hub.services import audit

STANDARD_RATE_BP = 2_000
SIMPLIFIED_LIMIT_PENCE = 25_000  # a simplified VAT invoice covers sales up to £250


def vat_rate_bp(vat_kind: str, eat_in: bool) -> int:
    """The VAT rate of a line: hot food and drink standard either way; cold food zero to take
    away and standard eaten in; otherwise as the product says."""
    if vat_kind == VatKind.ZERO.value:
        return 0
    if vat_kind == VatKind.COLD_FOOD.value:
        return STANDARD_RATE_BP if eat_in else 0
    return STANDARD_RATE_BP


def vat_in_gross(gross_pence: int, rate_bp: int) -> int:
    """VAT contained in a VAT-inclusive amount, half-up: gross × rate / (1 + rate)."""
    return proportion_pence(gross_pence, rate_bp, 10_000 + rate_bp) if rate_bp else 0


def content_hash(data: SaleIn) -> str:
    """What the sale says, independent of key order and of the time zone its instant was written in."""
    plain = msgspec.to_builtins(data)
    plain["uuid"] = str(data.uuid)
    plain["rung_at"] = data.rung_at.astimezone(UTC).isoformat() if data.rung_at.tzinfo else str(data.rung_at)
    return hashlib.sha256(json.dumps(plain, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class _Line:
    product: CafeProduct
    quantity: int
    eat_in: bool
    modifiers: list[dict[str, Any]]
    unit_price_pence: int
    discount_pence: int
    total_pence: int
    rate_bp: int
    vat_pence: int


async def _existing(db: AsyncSession, uuid: str) -> Sale | None:
    return (
        await db.scalars(select(Sale).where(Sale.uuid == uuid).execution_options(populate_existing=True))
    ).first()


async def _replay(db: AsyncSession, settings: Settings, sale: Sale, digest: str) -> SaleOut:
    if sale.content_hash != digest:
        raise Conflict(
            "A different sale was recorded with this UUID already; make a new UUID for a new sale.",
            field="uuid",
        )
    return await sale_detail(db, settings, sale.uuid, with_refunds=False)


async def record_sale(
    db: AsyncSession, settings: Settings, identity: Identity, data: SaleIn
) -> tuple[SaleOut, bool]:
    """Record a sale; answer it and whether it is a replay of one recorded before."""
    uuid = str(data.uuid)
    digest = content_hash(data)
    existing = await _existing(db, uuid)
    if existing is not None:
        return await _replay(db, settings, existing, digest), True
    if data.rung_at.tzinfo is None:
        raise InvalidInput("needs a time zone (e.g. 2026-12-03T10:15:00Z)", field="rung_at")

    # The session is read with a shared lock (PostgreSQL): a close waits for the sales in flight,
    # and a sale arriving after the close sees it closed.
    session = (
        await db.scalars(
            select(TillSession)
            .where(TillSession.id == data.session_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if session is None:
        raise InvalidInput("There is no such till session.", field="session_id")
    if session.till_id != data.till_id:
        raise InvalidInput("That session belongs to another till.", field="till_id")
    late = False
    if session.status != SessionStatus.OPEN.value:
        assert session.closed_at is not None
        if data.rung_at >= session.closed_at or data.rung_at < session.opened_at:
            raise Conflict(
                "That till session is closed: open a new session to take sales.",
                field="session_id",
            )
        late = True

    errors: list[FieldError] = []
    if not data.lines and not data.gifts:
        raise InvalidInput("A sale needs something in the basket.", field="lines")

    products = {
        p.id: p
        for p in (
            await db.scalars(
                select(CafeProduct).where(CafeProduct.id.in_({line.product_id for line in data.lines}))
            )
        ).all()
    }
    modifier_ids = {m for line in data.lines for m in line.modifier_ids}
    modifiers = (
        {
            m.id: m
            for m in (await db.scalars(select(CafeModifier).where(CafeModifier.id.in_(modifier_ids)))).all()
        }
        if modifier_ids
        else {}
    )
    discount = None
    if data.discount_code is not None:
        discount = await db.get(CafeDiscount, data.discount_code)
        if discount is None or not discount.active:
            errors.append(FieldError(field="discount_code", reason="is not a discount the café offers"))

    lines: list[_Line] = []
    for index, item in enumerate(data.lines):
        product = products.get(item.product_id)
        if product is None:
            errors.append(FieldError(field=f"lines[{index}].product_id", reason="is not on the menu"))
            continue
        if item.from_pool and product.pay_it_forward_kind is None:
            errors.append(
                FieldError(
                    field=f"lines[{index}].from_pool",
                    reason=f"{product.short_name} cannot be paid for from the pay-it-forward pool",
                )
            )
            continue
        if not product.available and not late:
            errors.append(
                FieldError(
                    field=f"lines[{index}].product_id", reason=f"{product.short_name} is not available"
                )
            )
            continue
        chosen: list[dict[str, Any]] = []
        for modifier_id in item.modifier_ids:
            modifier = modifiers.get(modifier_id)
            if modifier is None or modifier.product_id != product.id or not modifier.active:
                errors.append(
                    FieldError(
                        field=f"lines[{index}].modifier_ids",
                        reason=f"{modifier_id} is not an option of {product.short_name}",
                    )
                )
                break
            chosen.append({"id": modifier.id, "name": modifier.name, "price_pence": modifier.price_pence})
        unit = product.price_pence + sum(m["price_pence"] for m in chosen)
        gross = unit * item.quantity
        off = (
            proportion_pence(gross, discount.percent_bp, 10_000)
            if discount is not None and discount.active
            else 0
        )
        total = gross - off
        rate = vat_rate_bp(product.vat_kind, item.eat_in)
        lines.append(
            _Line(
                product, item.quantity, item.eat_in, chosen, unit, off, total, rate, vat_in_gross(total, rate)
            )
        )

    prices = await menu_service.gift_prices(db) if data.gifts else {}
    gifts: list[tuple[str, int, int]] = []
    for index, gift in enumerate(data.gifts):
        price = prices.get(gift.kind)
        if price is None:
            errors.append(
                FieldError(
                    field=f"gifts[{index}].kind", reason=f"nothing on the menu can be given as a {gift.kind}"
                )
            )
            continue
        gifts.append((gift.kind, gift.units, gift.units * price))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)

    lines_total = sum(line.total_pence for line in lines)
    gift_total = sum(value for _, _, value in gifts)
    total = lines_total + gift_total
    vat_total = sum(line.vat_pence for line in lines)

    # Tenders: together exactly the total; cash may be handed over in excess (change is given).
    # Lines paid from the pool: those marked ``from_pool``; when none is marked but the pool pays,
    # every line that can be redeemed (the simple case: "one suspended coffee, please").
    redeemable: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [units, pence]
    pif_tender = any(t.method == TenderMethod.PAY_IT_FORWARD.value for t in data.tenders)
    marked = any(item.from_pool for item in data.lines)
    from_pool: list[bool] = []
    for line, item in zip(lines, data.lines, strict=True):
        kind = line.product.pay_it_forward_kind
        pooled = item.from_pool if marked else (pif_tender and kind is not None)
        from_pool.append(pooled)
        if pooled and kind:
            redeemable[kind][0] += line.quantity
            redeemable[kind][1] += line.total_pence
    paid = sum(t.amount_pence for t in data.tenders)
    if paid != total:
        raise InvalidInput(
            f"The payments add up to {paid}p but the sale is {total}p.",
            field="tenders",
            extra={"total_pence": total, "tenders_pence": paid},
        )
    change = 0
    redeeming = False
    for index, tender in enumerate(data.tenders):
        if tender.method == TenderMethod.CASH.value:
            if tender.tendered_pence is not None:
                if tender.tendered_pence < tender.amount_pence:
                    raise InvalidInput(
                        f"{tender.tendered_pence}p handed over is less than the {tender.amount_pence}p due.",
                        field=f"tenders[{index}].tendered_pence",
                    )
                change += tender.tendered_pence - tender.amount_pence
        elif tender.tendered_pence is not None:
            raise InvalidInput(
                "Only cash is tendered (with change).", field=f"tenders[{index}].tendered_pence"
            )
        if tender.method == TenderMethod.PAY_IT_FORWARD.value:
            if redeeming:
                raise InvalidInput("One pay-it-forward payment per sale.", field=f"tenders[{index}].method")
            redeeming = True
            due = sum(pence for _, pence in redeemable.values())
            if tender.amount_pence != due:
                raise InvalidInput(
                    f"The pool pays for the suspended coffees and meals in the basket: {due}p.",
                    field=f"tenders[{index}].amount_pence",
                )

    if marked and not redeeming:
        raise InvalidInput(
            "Lines from the pay-it-forward pool need a pay-it-forward payment.", field="tenders"
        )
    if redeeming:
        if db.get_bind().dialect.name == "postgresql":
            # Two tills redeeming the last suspended coffee take turns (SQLite's writers already do).
            await db.execute(text("SELECT pg_advisory_xact_lock(1407201)"))
        held = await menu_service.pool(db)
        for kind, (units, pence) in redeemable.items():
            have_units, have_pence = held.get(kind, (0, 0))
            have_units += sum(u for k, u, _ in gifts if k == kind)
            have_pence += sum(v for k, _, v in gifts if k == kind)
            if units > have_units or pence > have_pence:
                raise InvalidInput(
                    f"The pay-it-forward pool holds {max(have_units, 0)} × {kind}.",
                    field="tenders",
                )

    now = utcnow()
    sale = Sale(
        uuid=uuid,
        session_id=session.id,
        till_id=session.till_id,
        rung_at=data.rung_at,
        recorded_at=now,
        content_hash=digest,
        total_pence=total,
        vat_pence=vat_total,
        discount_code=discount.code if discount is not None else None,
        discount_label=discount.label if discount is not None else "",
        discount_pence=sum(line.discount_pence for line in lines),
        gift_pence=gift_total,
        change_pence=change,
        status=SaleStatus.COMPLETED.value,
        by_id=identity.user_id,
        by_label=identity.label,
        late=late,
    )
    db.add(sale)
    try:
        await db.flush()
    except IntegrityError:
        # The same UUID recorded a moment ago by a copy of this request.
        await db.rollback()
        again = await _existing(db, uuid)
        if again is None:
            raise
        return await _replay(db, settings, again, digest), True
    db.add_all(
        [
            SaleLine(
                sale_id=sale.id,
                position=position,
                product_id=line.product.id,
                short_name=line.product.short_name,
                quantity=line.quantity,
                eat_in=line.eat_in,
                modifiers=line.modifiers,
                unit_price_pence=line.unit_price_pence,
                discount_pence=line.discount_pence,
                line_total_pence=line.total_pence,
                vat_rate_bp=line.rate_bp,
                vat_pence=line.vat_pence,
                net_pence=line.total_pence - line.vat_pence,
                pay_it_forward_kind=line.product.pay_it_forward_kind if pooled else None,
            )
            for position, (line, pooled) in enumerate(zip(lines, from_pool, strict=True))
        ]
    )
    db.add_all(
        [
            Tender(
                sale_id=sale.id,
                position=position,
                method=tender.method,
                amount_pence=tender.amount_pence,
                tendered_pence=tender.tendered_pence,
                change_pence=(tender.tendered_pence - tender.amount_pence)
                if tender.method == TenderMethod.CASH.value and tender.tendered_pence is not None
                else 0,
                reference=tender.reference,
            )
            for position, tender in enumerate(data.tenders)
        ]
    )
    db.add_all(
        [
            PifMovement(sale_id=sale.id, kind=kind, units=units, value_pence=value)
            for kind, units, value in gifts
        ]
    )
    if redeeming:
        db.add_all(
            [
                PifMovement(sale_id=sale.id, kind=kind, units=-units, value_pence=-pence)
                for kind, (units, pence) in sorted(redeemable.items())
            ]
        )
    await _take_stock(
        db, [(line.product.id, line.quantity) for line in lines if line.product.stock_count is not None], -1
    )
    await db.flush()
    if late:
        await _amend_closed_session(db, settings, session, sale)
    out = await sale_detail(db, settings, uuid, with_refunds=False)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        again = await _existing(db, uuid)
        if again is None:
            raise
        return await _replay(db, settings, again, digest), True
    return out, False


async def _take_stock(db: AsyncSession, items: list[tuple[int, int]], sign: int) -> None:
    """Move stock counts (never below zero: a count is a guide, and a sale already made, perhaps
    offline, is never refused for it)."""
    for product_id, quantity in items:
        new = CafeProduct.stock_count + sign * quantity
        await db.execute(
            update(CafeProduct)
            .where(CafeProduct.id == product_id, CafeProduct.stock_count.is_not(None))
            .values(stock_count=case((new < 0, 0), else_=new))
            .execution_options(synchronize_session=False)
        )


async def _amend_closed_session(
    db: AsyncSession, settings: Settings, session: TillSession, sale: Sale
) -> None:
    figures = await takings_service.session_takings(db, session.id)
    session.expected_cash_pence = figures.expected_cash(session.float_pence)
    if session.counted_cash_pence is not None:
        session.variance_pence = session.counted_cash_pence - session.expected_cash_pence
    session.amended_at = utcnow()
    till = await db.get(CafeTill, session.till_id)
    await takings_service.post_session(
        db, settings, session, till.name if till else "", journal=f"cafe_session:{session.id}:late:{sale.id}"
    )


# -- reading --------------------------------------------------------------------------------------
async def get_sale(db: AsyncSession, sale_uuid: str, *, lock: bool = False) -> Sale:
    query = select(Sale).where(Sale.uuid == sale_uuid.lower()).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    sale = (await db.scalars(query)).first()
    if sale is None:
        raise NotFound("That sale was not found.")
    return sale


async def _refunded_quantities(db: AsyncSession, line_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per sale line: (quantity, amount, VAT) refunded so far."""
    from sqlalchemy import func

    if not line_ids:
        return {}
    rows = await db.execute(
        select(
            RefundLine.sale_line_id,
            func.sum(RefundLine.quantity),
            func.sum(RefundLine.amount_pence),
            func.sum(RefundLine.vat_pence),
        )
        .where(RefundLine.sale_line_id.in_(line_ids))
        .group_by(RefundLine.sale_line_id)
    )
    return {int(i): (int(q or 0), int(a or 0), int(v or 0)) for i, q, a, v in rows.all()}


def _refund_out(refund: Refund, sale_uuid: str, lines: list[RefundLine]) -> RefundOut:
    return RefundOut(
        id=refund.id,
        sale_uuid=sale_uuid,
        session_id=refund.session_id,
        method=refund.method,
        amount_pence=refund.amount_pence,
        vat_pence=refund.vat_pence,
        reason=refund.reason,
        at=refund.at,
        by=refund.by_label,
        lines=[
            RefundLineOut(
                line_id=line.sale_line_id,
                quantity=line.quantity,
                amount_pence=line.amount_pence,
                vat_pence=line.vat_pence,
            )
            for line in lines
        ],
    )


async def sale_detail(
    db: AsyncSession, settings: Settings, sale_uuid: str, *, with_refunds: bool = True
) -> SaleOut:
    """A sale with its lines, tenders, gifts, receipt (and, by default, its refunds)."""
    sale = await get_sale(db, sale_uuid)
    lines = list(
        (
            await db.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.position))
        ).all()
    )
    tenders = list(
        (await db.scalars(select(Tender).where(Tender.sale_id == sale.id).order_by(Tender.position))).all()
    )
    movements = list(
        (
            await db.scalars(
                select(PifMovement).where(PifMovement.sale_id == sale.id).order_by(PifMovement.id)
            )
        ).all()
    )
    till = await db.get(CafeTill, sale.till_id)
    refunded = await _refunded_quantities(db, [line.id for line in lines]) if with_refunds else {}
    refunds: list[RefundOut] = []
    if with_refunds:
        refund_rows = list(
            (await db.scalars(select(Refund).where(Refund.sale_id == sale.id).order_by(Refund.id))).all()
        )
        if refund_rows:
            refund_lines: dict[int, list[RefundLine]] = defaultdict(list)
            for refund_line in (
                await db.scalars(
                    select(RefundLine)
                    .where(RefundLine.refund_id.in_([r.id for r in refund_rows]))
                    .order_by(RefundLine.id)
                )
            ).all():
                refund_lines[refund_line.refund_id].append(refund_line)
            refunds = [_refund_out(r, sale.uuid, refund_lines[r.id]) for r in refund_rows]
    tender_outs = [
        TenderOut(
            method=t.method,
            amount_pence=t.amount_pence,
            tendered_pence=t.tendered_pence,
            change_pence=t.change_pence,
            reference=t.reference,
        )
        for t in tenders
    ]
    by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        by_rate[line.vat_rate_bp][0] += line.line_total_pence
        by_rate[line.vat_rate_bp][1] += line.vat_pence

    def describe(line: SaleLine) -> str:
        extras = ", ".join(m["name"] for m in line.modifiers)
        where = "eat in" if line.eat_in else "take away"
        return f"{line.short_name}{f' ({extras})' if extras else ''}, {where}"

    receipt_lines = [
        ReceiptLine(
            description=describe(line),
            quantity=line.quantity,
            total_pence=line.line_total_pence,
            vat_rate_bp=line.vat_rate_bp,
        )
        for line in lines
    ]
    gifts = [GiftOut(kind=m.kind, units=m.units, value_pence=m.value_pence) for m in movements if m.units > 0]
    for gift in gifts:
        receipt_lines.append(
            ReceiptLine(
                description=f"Pay it forward: {gift.units} × {gift.kind} for someone who needs it",
                quantity=gift.units,
                total_pence=gift.value_pence,
                vat_rate_bp=0,
            )
        )
    receipt = Receipt(
        supplier_name=settings.invoice_supplier_name,
        supplier_address=list(settings.supplier_address),
        vat_number=settings.vat_number,
        number=sale.id,
        time_of_supply=sale.rung_at,
        till=till.name if till else "",
        lines=receipt_lines,
        discount_label=sale.discount_label,
        discount_pence=sale.discount_pence,
        gifts_pence=sale.gift_pence,
        total_pence=sale.total_pence,
        vat_pence=sale.vat_pence,
        vat_by_rate=[
            ReceiptRate(vat_rate_bp=r, gross_pence=g, vat_pence=v) for r, (g, v) in sorted(by_rate.items())
        ],
        tenders=tender_outs,
        change_pence=sale.change_pence,
        simplified=sale.total_pence <= SIMPLIFIED_LIMIT_PENCE,
    )
    return SaleOut(
        uuid=sale.uuid,
        id=sale.id,
        number=sale.id,
        session_id=sale.session_id,
        till_id=sale.till_id,
        rung_at=sale.rung_at,
        recorded_at=sale.recorded_at,
        status=sale.status,
        total_pence=sale.total_pence,
        vat_pence=sale.vat_pence,
        discount_code=sale.discount_code,
        discount_pence=sale.discount_pence,
        gift_pence=sale.gift_pence,
        change_pence=sale.change_pence,
        late=sale.late,
        lines=[
            SaleLineOut(
                id=line.id,
                product_id=line.product_id,
                short_name=line.short_name,
                quantity=line.quantity,
                eat_in=line.eat_in,
                modifiers=line.modifiers,
                unit_price_pence=line.unit_price_pence,
                discount_pence=line.discount_pence,
                line_total_pence=line.line_total_pence,
                vat_rate_bp=line.vat_rate_bp,
                vat_pence=line.vat_pence,
                net_pence=line.net_pence,
                refunded_quantity=refunded.get(line.id, (0, 0, 0))[0],
            )
            for line in lines
        ],
        tenders=tender_outs,
        gifts=gifts,
        receipt=receipt,
        refunds=refunds,
        void_reason=sale.void_reason,
    )


async def list_sales(db: AsyncSession, *, session_id: int | None, limit: int = 200) -> list[SaleSummary]:
    query = select(Sale).order_by(Sale.rung_at.desc(), Sale.id.desc()).limit(limit)
    if session_id is not None:
        query = query.where(Sale.session_id == session_id)
    return [
        SaleSummary(
            uuid=s.uuid,
            id=s.id,
            number=s.id,
            session_id=s.session_id,
            rung_at=s.rung_at,
            status=s.status,
            total_pence=s.total_pence,
            vat_pence=s.vat_pence,
            late=s.late,
        )
        for s in (await db.scalars(query)).all()
    ]


# -- refunds and voids ----------------------------------------------------------------------------
async def _open_session_of(db: AsyncSession, till_id: int) -> TillSession | None:
    return (
        await db.scalars(
            select(TillSession)
            .where(TillSession.till_id == till_id, TillSession.status == SessionStatus.OPEN.value)
            .with_for_update(read=True)
        )
    ).first()


async def refund(
    db: AsyncSession, settings: Settings, identity: Identity, sale_uuid: str, data: RefundIn
) -> SaleOut:
    """Give money back for a whole sale or chosen lines, never more than was sold (counting
    earlier refunds). The refund is taken from the open session of the sale's till (its cash
    leaves that drawer). A line's refunded amount and VAT are taken on the running total refunded,
    so partial refunds never give back more than the line carried."""
    sale = await get_sale(db, sale_uuid, lock=True)
    if sale.status != SaleStatus.COMPLETED.value:
        raise Conflict("That sale was voided: there is nothing to refund.", field="sale_uuid")
    session = await _open_session_of(db, sale.till_id)
    if session is None:
        raise Conflict(
            "Open a session on this sale's till to give a refund from its drawer.", field="session_id"
        )
    lines = {
        line.id: line
        for line in (
            await db.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.position))
        ).all()
    }
    before = await _refunded_quantities(db, list(lines))
    wanted: dict[int, int] = defaultdict(int)
    if data.all:
        if data.lines:
            raise InvalidInput("Either all, or the lines to refund — not both.", field="lines")
        for line_id, line in lines.items():
            left = line.quantity - before.get(line_id, (0, 0, 0))[0]
            if left > 0:
                wanted[line_id] = left
        if not wanted:
            raise Conflict("Everything on that sale has been refunded already.", field="all")
    else:
        if not data.lines:
            raise InvalidInput("Choose the lines to refund (or all).", field="lines")
        for index, item in enumerate(data.lines):
            chosen_line = lines.get(item.line_id)
            if chosen_line is None:
                raise InvalidInput("is not a line of this sale", field=f"lines[{index}].line_id")
            wanted[item.line_id] += item.quantity
            left = chosen_line.quantity - before.get(item.line_id, (0, 0, 0))[0]
            if wanted[item.line_id] > left:
                raise InvalidInput(
                    f"Only {left} of {chosen_line.short_name} can still be refunded "
                    f"(sold {chosen_line.quantity}).",
                    field=f"lines[{index}].quantity",
                )
    refund_lines = []
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        done_q, done_amount, done_vat = before.get(line_id, (0, 0, 0))
        amount = proportion_pence(line.line_total_pence, done_q + quantity, line.quantity) - done_amount
        vat = proportion_pence(line.vat_pence, done_q + quantity, line.quantity) - done_vat
        refund_lines.append(
            RefundLine(
                sale_line_id=line_id,
                quantity=quantity,
                amount_pence=amount,
                net_pence=amount - vat,
                vat_pence=vat,
                vat_rate_bp=line.vat_rate_bp,
            )
        )
    amount_total = sum(r.amount_pence for r in refund_lines)
    if amount_total <= 0:
        raise InvalidInput("Those lines cost nothing: there is nothing to give back.", field="lines")
    record = Refund(
        sale_id=sale.id,
        session_id=session.id,
        method=data.method,
        amount_pence=amount_total,
        vat_pence=sum(r.vat_pence for r in refund_lines),
        reason=data.reason.strip(),
        at=utcnow(),
        by_id=identity.user_id,
        by_label=identity.label,
    )
    db.add(record)
    await db.flush()
    for refund_line in refund_lines:
        refund_line.refund_id = record.id
    db.add_all(refund_lines)
    audit.record(
        db,
        identity,
        "refund",
        "cafe_sale",
        sale.uuid,
        summary=f"Refunded {amount_total}p by {data.method} on sale {sale.id}",
        changes={"lines": {str(k): v for k, v in wanted.items()}, "amount_pence": amount_total},
        reason=record.reason,
    )
    await db.flush()
    out = await sale_detail(db, settings, sale.uuid)
    await db.commit()
    return out


async def void(
    db: AsyncSession, settings: Settings, identity: Identity, sale_uuid: str, data: VoidIn
) -> SaleOut:
    """Cancel a sale rung in error, while its session is still open (after the close, a refund).
    It stays on record, voided, counted nowhere; its stock comes back."""
    sale = await get_sale(db, sale_uuid, lock=True)
    if sale.status != SaleStatus.COMPLETED.value:
        raise Conflict("That sale is voided already.", field="sale_uuid")
    session = (
        await db.scalars(select(TillSession).where(TillSession.id == sale.session_id).with_for_update())
    ).first()
    if session is None or session.status != SessionStatus.OPEN.value:
        raise Conflict("That sale's session is closed: give a refund instead.", field="session_id")
    if await db.scalar(select(Refund.id).where(Refund.sale_id == sale.id).limit(1)) is not None:
        raise Conflict("That sale has refunds: it cannot be voided.", field="sale_uuid")
    gifts = list(
        (
            await db.scalars(select(PifMovement).where(PifMovement.sale_id == sale.id, PifMovement.units > 0))
        ).all()
    )
    if gifts:
        held = await menu_service.pool(db)
        for gift in gifts:
            units, value = held.get(gift.kind, (0, 0))
            if units - gift.units < 0 or value - gift.value_pence < 0:
                raise Conflict("Its pay-it-forward gift has been redeemed already.", field="sale_uuid")
    sale.status = SaleStatus.VOIDED.value
    sale.voided_at = utcnow()
    sale.voided_by_id = identity.user_id
    sale.void_reason = data.reason.strip()
    stocked = (
        await db.execute(
            select(SaleLine.product_id, SaleLine.quantity)
            .join(CafeProduct, CafeProduct.id == SaleLine.product_id)
            .where(SaleLine.sale_id == sale.id, CafeProduct.stock_count.is_not(None))
        )
    ).all()
    await _take_stock(db, [(int(p), int(q)) for p, q in stocked], +1)
    audit.record(
        db,
        identity,
        "void",
        "cafe_sale",
        sale.uuid,
        summary=f"Voided sale {sale.id} ({sale.total_pence}p)",
        reason=sale.void_reason,
    )
    await db.flush()
    out = await sale_detail(db, settings, sale.uuid)
    await db.commit()
    return out
