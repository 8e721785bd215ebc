"""Tills and their sessions: open with a counted float, X report while open, close by counting the
cash by denomination (expected cash, variance with a reason), the Z report, and the takings posted
to the ledger in the closing transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import DENOMINATIONS, CafeTill, SessionStatus, TillSession
from cafe.schemas import SessionClose, SessionOpen, SessionOut, SessionReport, TillIn, TillOut, VatRateSummary
from cafe.services import takings as takings_service
from hub.auth import Identity
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound
from hub.services import audit


async def list_tills(db: AsyncSession) -> list[TillOut]:
    tills = (await db.scalars(select(CafeTill).order_by(CafeTill.id))).all()
    open_sessions = dict(
        (
            await db.execute(
                select(TillSession.till_id, TillSession.id).where(
                    TillSession.status == SessionStatus.OPEN.value
                )
            )
        ).all()
    )
    return [TillOut(id=t.id, name=t.name, open_session_id=open_sessions.get(t.id)) for t in tills]


async def create_till(db: AsyncSession, identity: Identity, data: TillIn) -> TillOut:
    if await db.scalar(select(CafeTill.id).where(CafeTill.name == data.name)) is not None:
        raise Conflict("There is a till with that name already.", field="name")
    till = CafeTill(name=data.name)
    db.add(till)
    await db.flush()
    audit.record(db, identity, "create", "cafe_till", till.id, summary=f"Till {till.name}")
    await db.commit()
    return TillOut(id=till.id, name=till.name, open_session_id=None)


async def till_names(db: AsyncSession) -> dict[int, str]:
    return dict((await db.execute(select(CafeTill.id, CafeTill.name))).all())


def session_out(session: TillSession, till_name: str) -> SessionOut:
    return SessionOut(
        id=session.id,
        till_id=session.till_id,
        till_name=till_name,
        status=session.status,
        opened_at=session.opened_at,
        opened_by=session.opened_by_label,
        float_pence=session.float_pence,
        closed_at=session.closed_at,
        closed_by=session.closed_by_label,
        counted=session.counted,
        counted_cash_pence=session.counted_cash_pence,
        expected_cash_pence=session.expected_cash_pence,
        variance_pence=session.variance_pence,
        variance_reason=session.variance_reason,
        amended_at=session.amended_at,
    )


async def get_session(db: AsyncSession, session_id: int, *, lock: bool = False) -> TillSession:
    """A session; with ``lock``, its row is locked until the transaction ends (PostgreSQL), so a
    close and a sale on it take turns (SQLite's writers take turns anyway)."""
    if not is_valid_id(session_id):
        raise NotFound("That till session was not found.")
    query = select(TillSession).where(TillSession.id == session_id)
    if lock:
        query = query.with_for_update()
    session = (await db.scalars(query.execution_options(populate_existing=True))).first()
    if session is None:
        raise NotFound("That till session was not found.")
    return session


async def list_sessions(db: AsyncSession, *, status: str | None = None, limit: int = 100) -> list[SessionOut]:
    query = select(TillSession).order_by(TillSession.opened_at.desc(), TillSession.id.desc()).limit(limit)
    if status is not None:
        query = query.where(TillSession.status == status)
    names = await till_names(db)
    return [session_out(s, names.get(s.till_id, "")) for s in (await db.scalars(query)).all()]


async def session_detail(db: AsyncSession, session_id: int) -> SessionOut:
    session = await get_session(db, session_id)
    return session_out(session, (await till_names(db)).get(session.till_id, ""))


async def open_session(db: AsyncSession, identity: Identity, data: SessionOpen) -> SessionOut:
    """Open a session on a till with its counted float. One open session per till: the database's
    partial unique index refuses a second even when two supervisors press at the same moment."""
    till = await db.get(CafeTill, data.till_id)
    if till is None:
        raise InvalidInput("There is no such till.", field="till_id")
    busy = await db.scalar(
        select(TillSession.id).where(
            TillSession.till_id == till.id, TillSession.status == SessionStatus.OPEN.value
        )
    )
    if busy is not None:
        raise Conflict(f"{till.name} already has an open session ({busy}); close it first.", field="till_id")
    till_name = till.name  # (the till is expired by a rollback below; its name is kept)
    session = TillSession(
        till_id=till.id,
        status=SessionStatus.OPEN.value,
        opened_at=utcnow(),
        opened_by_id=identity.user_id,
        opened_by_label=identity.label,
        float_pence=data.float_pence,
    )
    db.add(session)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise Conflict(f"{till_name} already has an open session; close it first.", field="till_id") from None
    audit.record(
        db,
        identity,
        "open",
        "cafe_session",
        session.id,
        summary=f"Opened {till.name} with a float of {data.float_pence}p",
    )
    out = session_out(session, till.name)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict(f"{till_name} already has an open session; close it first.", field="till_id") from None
    return out


def counted_total(counted: dict[str, int]) -> int:
    allowed = {str(d) for d in DENOMINATIONS}
    total = 0
    for key, count in counted.items():
        if key not in allowed:
            raise InvalidInput(
                "is not a note or coin in pence (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)",
                field=f"counted.{key}",
            )
        total += int(key) * count
    return total


async def close_session(
    db: AsyncSession, settings: Settings, identity: Identity, session_id: int, data: SessionClose
) -> SessionOut:
    """Close by counting the drawer. Expected cash = float + cash taken (less change) − cash
    refunded; a variance other than zero needs its reason. The takings go into the ledger in the
    same transaction (stream ``cafe``), so the books and the Z report can never disagree."""
    counted_cash = counted_total(data.counted)
    session = await get_session(db, session_id, lock=True)
    if session.status != SessionStatus.OPEN.value:
        raise Conflict("That session is closed already.", field="session_id")
    till_name = (await till_names(db)).get(session.till_id, "")
    figures = await takings_service.session_takings(db, session.id)
    expected = figures.expected_cash(session.float_pence)
    variance = counted_cash - expected
    reason = data.variance_reason.strip()
    if variance != 0 and not reason:
        raise InvalidInput(
            f"The drawer is {abs(variance)}p {'over' if variance > 0 else 'short'}: say why.",
            field="variance_reason",
            extra={
                "expected_cash_pence": expected,
                "counted_cash_pence": counted_cash,
                "variance_pence": variance,
            },
        )
    session.status = SessionStatus.CLOSED.value
    session.closed_at = utcnow()
    session.closed_by_id = identity.user_id
    session.closed_by_label = identity.label
    session.counted = {key: count for key, count in data.counted.items() if count}
    session.counted_cash_pence = counted_cash
    session.expected_cash_pence = expected
    session.variance_pence = variance
    session.variance_reason = reason
    await db.flush()
    await takings_service.post_session(db, settings, session, till_name, journal=f"cafe_session:{session.id}")
    audit.record(
        db,
        identity,
        "close",
        "cafe_session",
        session.id,
        summary=f"Closed {till_name}: expected {expected}p, counted {counted_cash}p, variance {variance}p",
        reason=reason,
    )
    out = session_out(session, till_name)
    await db.commit()
    return out


async def report(db: AsyncSession, session_id: int) -> SessionReport:
    """X report (open) or Z report (closed). The VAT summary is the sum of the lines exactly."""
    session = await get_session(db, session_id)
    till_name = (await till_names(db)).get(session.till_id, "")
    t = await takings_service.session_takings(db, session.id)
    expected = (
        session.expected_cash_pence
        if session.expected_cash_pence is not None
        else t.expected_cash(session.float_pence)
    )
    return SessionReport(
        kind="Z" if session.status == SessionStatus.CLOSED.value else "X",
        session=session_out(session, till_name),
        sales=t.sales,
        voids=t.voids,
        voided_pence=t.voided_pence,
        gross_pence=t.gross_pence,
        net_pence=t.net_pence,
        vat_pence=t.vat_pence,
        vat_by_rate=[
            VatRateSummary(vat_rate_bp=rate, gross_pence=g, net_pence=n, vat_pence=v)
            for rate, (g, n, v) in sorted(t.by_rate.items())
        ],
        discounts_pence=t.discounts_pence,
        discounts_by_code=dict(sorted(t.discounts_by_code.items())),
        cash_pence=t.cash_pence,
        card_pence=t.card_pence,
        pay_it_forward_redeemed_pence=t.pif_redeemed_pence,
        pay_it_forward_redeemed_units=t.pif_redeemed_units,
        pay_it_forward_given_pence=t.pif_given_pence,
        pay_it_forward_given_units=t.pif_given_units,
        refunds=t.refunds,
        refunds_pence=t.refunds_pence,
        refunds_cash_pence=t.refunds_cash_pence,
        refunds_card_pence=t.refunds_card_pence,
        refunds_vat_pence=t.refunds_vat_pence,
        expected_cash_pence=expected,
        counted_cash_pence=session.counted_cash_pence,
        variance_pence=session.variance_pence,
        variance_reason=session.variance_reason,
        late_sales=t.late_sales,
    )
