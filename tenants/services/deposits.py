"""Tenants' deposits: money held, never income until the hub keeps it.

- **Received**: the bank (or cash) is debited and ``deposits_held`` credited — a liability, owed
  back to the tenant. Nothing reaches income.
- **Kept** (part or all, once, with the reason in the note): ``deposits_held`` is debited and
  income (stream ``rent``) credited on that day.
- **Returned**: what is still held goes back — ``deposits_held`` debited, the bank (or cash)
  credited. After that the deposit is closed.

Each is one balanced journal (``hub.billing.post_journal``) written in the same transaction as
the agreement's deposit fields and the audit entry. The module's ledger check
(:func:`check`, provided as ``hub.billing.LEDGER_CHECKS``) proves, agreement by agreement, that
``deposits_held`` holds exactly what was received less what was kept and returned.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing import JournalLine, LedgerAccount, post_journal
from hub.billing.models import LedgerEntry
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound
from hub.money import format_pence
from hub.schemas import within_calendar
from hub.services import audit
from tenants.models import Agreement

SOURCE_TYPE = "agreement_deposit"
RECEIVED, RETURNED, KEPT = "received", "returned", "kept"
ACTIONS = (RECEIVED, RETURNED, KEPT)
METHODS = {"bank": LedgerAccount.BANK, "cash": LedgerAccount.CASH}


def held_pence(agreement: Agreement) -> int:
    """What the hub holds of the agreement's deposit now."""
    if agreement.deposit_received_on is None or agreement.deposit_returned_on is not None:
        return 0
    return agreement.deposit_pence - agreement.deposit_kept_pence


async def _locked(db: AsyncSession, agreement_id: int) -> Agreement:
    agreement = None
    if is_valid_id(agreement_id):
        # The row lock (PostgreSQL; SQLite's writes hold the database lock from BEGIN) makes two
        # requests for the same deposit take turns, so "returned twice" is refused, not written.
        agreement = await db.scalar(select(Agreement).where(Agreement.id == agreement_id).with_for_update())
    if agreement is None:
        raise NotFound("That agreement was not found.")
    return agreement


async def record(
    db: AsyncSession,
    actor: Identity,
    agreement_id: int,
    *,
    action: str,
    on: date,
    amount_pence: int | None = None,
    note: str = "",
    method: str = "bank",
) -> Agreement:
    """Record a deposit received, kept or returned (see the module); refuses what does not follow
    (returning twice, keeping more than is held, …), naming the field."""
    if action not in ACTIONS:
        raise InvalidInput("must be received, returned or kept", field="action")
    if method not in METHODS:
        raise InvalidInput("must be bank or cash", field="method")
    within_calendar(on, "on")
    if amount_pence is not None and amount_pence <= 0:
        raise InvalidInput("must be more than nothing", field="amount_pence")
    note = note.strip()
    agreement = await _locked(db, agreement_id)
    before = {
        "deposit_pence": agreement.deposit_pence,
        "deposit_received_on": agreement.deposit_received_on,
        "deposit_kept_pence": agreement.deposit_kept_pence,
        "deposit_kept_on": agreement.deposit_kept_on,
        "deposit_returned_on": agreement.deposit_returned_on,
    }
    money = METHODS[method]
    journal = f"{SOURCE_TYPE}:{agreement.id}:{action}"
    common = {"entry_date": on, "source_type": SOURCE_TYPE, "source_id": str(agreement.id)}
    org = agreement.organisation_id
    if action == RECEIVED:
        if agreement.deposit_received_on is not None:
            raise Conflict(
                f"the deposit was already received on {agreement.deposit_received_on:%d %B %Y}",
                field="action",
            )
        amount = amount_pence if amount_pence is not None else agreement.deposit_pence
        if amount <= 0:
            raise InvalidInput(
                "the agreement names no deposit: say how much was received", field="amount_pence"
            )
        if agreement.deposit_pence and amount != agreement.deposit_pence:
            raise InvalidInput(
                f"the agreement's deposit is {format_pence(agreement.deposit_pence)}", field="amount_pence"
            )
        agreement.deposit_pence = amount
        agreement.deposit_received_on = on
        post_journal(
            db,
            journal=journal,
            description=f"Deposit received, {agreement.reference}",
            lines=[
                JournalLine(money, amount, organisation_id=org),
                JournalLine(LedgerAccount.DEPOSITS_HELD, -amount, organisation_id=org),
            ],
            **common,  # type: ignore[arg-type]
        )
    else:
        if agreement.deposit_received_on is None:
            raise Conflict("no deposit has been received for this agreement", field="action")
        if agreement.deposit_returned_on is not None:
            raise Conflict(
                f"the deposit was already returned on {agreement.deposit_returned_on:%d %B %Y}",
                field="action",
            )
        if on < agreement.deposit_received_on:
            raise InvalidInput(
                f"must be on or after the day it was received ({agreement.deposit_received_on:%d %B %Y})",
                field="on",
            )
        held = held_pence(agreement)
        if action == KEPT:
            if agreement.deposit_kept_on is not None:
                raise Conflict(
                    f"{format_pence(agreement.deposit_kept_pence)} was already kept on "
                    f"{agreement.deposit_kept_on:%d %B %Y}; return the rest",
                    field="action",
                )
            if not note:
                raise InvalidInput("say why the deposit is kept", field="note")
            amount = amount_pence if amount_pence is not None else held
            if amount > held:
                raise InvalidInput(f"only {format_pence(held)} is held", field="amount_pence")
            agreement.deposit_kept_pence = amount
            agreement.deposit_kept_on = on
            post_journal(
                db,
                journal=journal,
                description=f"Deposit kept, {agreement.reference}: {note}",
                lines=[
                    JournalLine(LedgerAccount.DEPOSITS_HELD, amount, organisation_id=org),
                    JournalLine(
                        LedgerAccount.INCOME, -amount, stream="rent", vat_rate_bp=0, organisation_id=org
                    ),
                ],
                **common,  # type: ignore[arg-type]
            )
        else:
            if amount_pence is not None and amount_pence != held:
                raise InvalidInput(
                    f"{format_pence(held)} is held: return all of it (keep part first, with action kept)",
                    field="amount_pence",
                )
            agreement.deposit_returned_on = on
            if held:
                post_journal(
                    db,
                    journal=journal,
                    description=f"Deposit returned, {agreement.reference}",
                    lines=[
                        JournalLine(LedgerAccount.DEPOSITS_HELD, held, organisation_id=org),
                        JournalLine(money, -held, organisation_id=org),
                    ],
                    **common,  # type: ignore[arg-type]
                )
    if note:
        agreement.deposit_note = note
    agreement.updated_at = utcnow()
    after = {
        "deposit_pence": agreement.deposit_pence,
        "deposit_received_on": agreement.deposit_received_on,
        "deposit_kept_pence": agreement.deposit_kept_pence,
        "deposit_kept_on": agreement.deposit_kept_on,
        "deposit_returned_on": agreement.deposit_returned_on,
    }
    audit.record(
        db,
        actor,
        f"agreement.deposit_{action}",
        "agreement",
        agreement.id,
        summary=f"Deposit {action}, {agreement.reference}",
        changes=audit.diff(before, after),
        reason=note,
    )
    await db.commit()
    return agreement


async def check(db: AsyncSession) -> list[str]:
    """``hub.billing.LEDGER_CHECKS``: ``deposits_held`` holds, agreement by agreement, exactly the
    deposits received less what was kept and returned (and nothing else posts to it here)."""
    ledger: dict[str, int] = {
        str(source_id): int(total or 0)
        for source_id, total in (
            await db.execute(
                select(LedgerEntry.source_id, func.sum(LedgerEntry.amount_pence))
                .where(
                    LedgerEntry.account == LedgerAccount.DEPOSITS_HELD.value,
                    LedgerEntry.source_type == SOURCE_TYPE,
                )
                .group_by(LedgerEntry.source_id)
            )
        ).all()
    }
    expected: dict[str, int] = {}
    for agreement_id, pence, returned, kept in (
        await db.execute(
            select(
                Agreement.id,
                Agreement.deposit_pence,
                Agreement.deposit_returned_on,
                Agreement.deposit_kept_pence,
            ).where(Agreement.deposit_received_on.is_not(None))
        )
    ).all():
        held = 0 if returned is not None else int(pence) - int(kept)
        expected[str(agreement_id)] = held
    problems = []
    for source_id in sorted(set(ledger) | set(expected), key=lambda s: int(s) if s.isdigit() else 0):
        # deposits_held is a liability: what is held sits there as a credit (negative).
        in_ledger = -ledger.get(source_id, 0)
        if in_ledger != expected.get(source_id, 0):
            problems.append(
                f"agreement {source_id}: the ledger holds {in_ledger}p of its deposit, "
                f"its record says {expected.get(source_id, 0)}p"
            )
    return problems
