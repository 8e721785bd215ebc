"""Tenants' charges in the monthly billing run (``hub.billing.PERIODIC_CHARGES``).

The run for a month posts, for every agreement that is active, under notice, or ended with days
left to charge in a period billed that month:

- its **rent** and **service charge** for each period :mod:`tenants.services.schedule` bills in
  the month (in advance; part periods pro rata by actual days; rent-free; discount; reviews), as
  charges of streams ``rent`` / ``service_charge``;
- the meeting-room minutes beyond its allowance in the **previous** month (complete by then), at
  the rooms' tenant rate (:mod:`tenants.services.allowance`), stream ``allowance_overage``.

Charged once, whatever the number of runs, by the database: each period's
:class:`~tenants.models.TenantChargePeriod` row is inserted first, in the same transaction as its
charge; the unique key (agreement, kind, period start) makes a second insert fail — a repeated
or concurrent run — and that transaction is rolled back and the period skipped. One transaction
per period, so one failure does not undo the others. VAT: exempt, or standard-rated (20%) when
the hub has opted to tax (``HUB_OPTED_TO_TAX``); allowance overage takes the room rate's VAT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing import Posting, post_for_source
from hub.billing.models import Charge, ChargeStatus
from hub.config import Settings
from hub.money import format_pence
from hub.services import audit
from tenants.models import Agreement, TenantChargePeriod
from tenants.services import allowance, schedule

SOURCE_TYPE = "agreement"
ALLOWANCE = "allowance"
STREAMS = {schedule.RENT: "rent", schedule.SERVICE_CHARGE: "service_charge", ALLOWANCE: "allowance_overage"}
STANDARD_RATE_BP = 2_000
BILLED_STATUSES = allowance.BILLED_STATUSES


def agreement_link(source_id: str) -> str:
    return f"/tenancies/agreements/{source_id}"


def vat_rate_bp(settings: Settings) -> int:
    """Letting is exempt unless the hub has opted to tax the building (then standard-rated)."""
    return STANDARD_RATE_BP if settings.opted_to_tax else 0


@dataclass(frozen=True)
class Planned:
    """One period's charge worked out before anything is written (so a rollback never meets an
    expired ORM object)."""

    agreement_id: int
    reference: str
    organisation_id: int
    kind: str
    period_start: date
    period_end: date
    supply_date: date
    postings: tuple[tuple[int, int, str], ...]  # (net pence, VAT rate bp, description) — none: zero
    note: str


def source_key(agreement_id: int, kind: str, period_start: date, part: int = 0) -> str:
    suffix = f":{part}" if part else ""
    return f"{SOURCE_TYPE}:{agreement_id}:{kind}:{period_start.isoformat()}{suffix}"


async def _agreements(db: AsyncSession, first: date, last: date) -> list[Agreement]:
    """Agreements that may have something to charge in a run for ``first``..``last``: a period
    billed in the month, or allowance minutes in the month before."""
    previous_first = (first - timedelta(days=1)).replace(day=1)
    return list(
        await db.scalars(
            select(Agreement)
            .where(
                Agreement.status.in_(BILLED_STATUSES),
                allowance.was_in_force(),
                Agreement.start_date <= last,
                or_(
                    and_(
                        Agreement.ended_on.is_(None),
                        or_(Agreement.end_date.is_(None), Agreement.end_date >= previous_first),
                    ),
                    Agreement.ended_on >= previous_first,
                ),
            )
            .order_by(Agreement.id)
        )
    )


async def _charged(db: AsyncSession, agreement_ids: list[int], since: date) -> set[tuple[int, str, date]]:
    """Periods already charged (a shortcut for a repeated run: the unique key is the guarantee)."""
    found: set[tuple[int, str, date]] = set()
    for start in range(0, len(agreement_ids), 500):
        rows = await db.execute(
            select(
                TenantChargePeriod.agreement_id, TenantChargePeriod.kind, TenantChargePeriod.period_start
            ).where(
                TenantChargePeriod.agreement_id.in_(agreement_ids[start : start + 500]),
                TenantChargePeriod.period_start >= since,
            )
        )
        found.update((int(a), str(k), p) for a, k, p in rows.all())
    return found


async def plan(
    db: AsyncSession, settings: Settings, first: date, last: date
) -> tuple[list[Planned], list[str]]:
    """What the run for the month would post (nothing written)."""
    vat = vat_rate_bp(settings)
    previous_first = (first - timedelta(days=1)).replace(day=1)
    previous_last = first - timedelta(days=1)
    planned: list[Planned] = []
    notes: list[str] = []
    for agreement in await _agreements(db, first, last):
        terms = schedule.terms_of(agreement)
        for charge in schedule.charges_for_month(terms, first, last):
            postings = ((charge.amount_pence, vat, charge.description),) if charge.amount_pence else ()
            planned.append(
                Planned(
                    agreement_id=agreement.id,
                    reference=agreement.reference,
                    organisation_id=agreement.organisation_id,
                    kind=charge.kind,
                    period_start=charge.period.start,
                    period_end=charge.period.end,
                    supply_date=charge.bill_on,
                    postings=postings,
                    note=f"{agreement.reference}: {charge.description}: {format_pence(charge.amount_pence)}",
                )
            )
        included = agreement.included_minutes_per_month
        last_day = agreement.ended_on or agreement.end_date
        in_previous = agreement.start_date <= previous_last and (
            last_day is None or last_day >= previous_first
        )
        if included <= 0 or not in_previous:
            continue
        if previous_last >= settings.today():
            notes.append(
                f"{agreement.reference}: meeting-room hours for {previous_first:%B %Y} "
                "not charged yet (the month is not over)"
            )
            continue
        in_force = await allowance.agreement_for_month(db, agreement.organisation_id, previous_first)
        if in_force is None or in_force.id != agreement.id:
            continue  # another agreement of the organisation holds that month's allowance
        lines, problems = await allowance.overage_lines(
            db, settings, agreement.organisation_id, previous_first, included
        )
        notes.extend(f"{agreement.reference}: {p}" for p in problems)
        postings_list = []
        for line in lines:
            description = (
                f"Meeting-room hours beyond the allowance, {agreement.reference}, {previous_first:%B %Y}: "
                f"{allowance.format_minutes(line.minutes)} beyond {allowance.format_minutes(included)} "
                "at the tenant rate"
            )
            postings_list.append((line.net_pence, line.vat_rate_bp, description))
        total = sum(p[0] for p in postings_list)
        planned.append(
            Planned(
                agreement_id=agreement.id,
                reference=agreement.reference,
                organisation_id=agreement.organisation_id,
                kind=ALLOWANCE,
                period_start=previous_first,
                period_end=previous_last,
                supply_date=previous_last,
                postings=tuple(p for p in postings_list if p[0]),
                note=f"{agreement.reference}: meeting-room hours beyond the allowance in "
                f"{previous_first:%B %Y}: {format_pence(total)}",
            )
        )
    return planned, notes


async def post_periodic_charges(
    db: AsyncSession, settings: Settings, actor: Identity, first: date, last: date
) -> list[str]:
    """The billing run's hook (see the module): post every period billed in the month, once."""
    planned, notes = await plan(db, settings, first, last)
    since = min((p.period_start for p in planned), default=first)
    charged = await _charged(db, sorted({p.agreement_id for p in planned}), since)
    await db.commit()
    posted = skipped = 0
    for item in planned:
        if (item.agreement_id, item.kind, item.period_start) in charged:
            skipped += 1
            continue
        if await post_one(db, actor, item):
            posted += 1
            notes.append(item.note)
        else:
            skipped += 1
    if posted or skipped:
        notes.append(f"Tenants: {posted} period charge(s) posted, {skipped} already charged")
    return notes


async def post_one(db: AsyncSession, actor: Identity, item: Planned) -> bool:
    """Charge one period in its own transaction: the period's row first (the unique key refuses a
    second), then its charges. False: another run charged it first (nothing written)."""
    period = TenantChargePeriod(
        agreement_id=item.agreement_id,
        kind=item.kind,
        period_start=item.period_start,
        period_end=item.period_end,
        charge_id=None,
        amount_pence=sum(net for net, _, _ in item.postings),
    )
    db.add(period)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        return False
    if item.postings:
        keys = [
            source_key(item.agreement_id, item.kind, item.period_start, part)
            for part in range(len(item.postings))
        ]
        await post_for_source(
            db,
            actor,
            [
                Posting(
                    source_key=key,
                    source_type=SOURCE_TYPE,
                    source_id=str(item.agreement_id),
                    organisation_id=item.organisation_id,
                    description=description,
                    supply_date=item.supply_date,
                    net_pence=net,
                    vat_rate_bp=rate,
                    stream=STREAMS[item.kind],
                )
                for key, (net, rate, description) in zip(keys, item.postings, strict=True)
            ],
            reason="billing run",
        )
        period.charge_id = await db.scalar(
            select(Charge.id)
            .where(Charge.source_key == keys[0], Charge.status == ChargeStatus.OPEN.value)
            .order_by(Charge.id.desc())
            .limit(1)
        )
    audit.record(
        db,
        actor,
        "agreement.period_charged",
        "agreement",
        item.agreement_id,
        summary=item.note,
        changes={"kind": [None, item.kind], "period_start": [None, item.period_start.isoformat()]},
    )
    await db.commit()
    return True
