"""What staff must act on soon: agreement ends, break dates (by the last day to give notice), rent
reviews and insurance expiries within the alert window (``settings.agreement_alert_days``), and
tenants in arrears (overdue debt, from the aged-debt report). Soonest first; a bounded number of
queries whatever the number of agreements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.services.debt import aged_debt
from hub.config import Settings
from hub.models import Organisation
from hub.money import format_pence
from tenants.models import LIVE_AGREEMENT_STATUSES, Agreement, AgreementBreak, RentReview
from tenants.schemas import AlertKind, AlertOut
from tenants.services.units import live_on

ORDER = {"arrears": 0, "insurance": 1, "break": 2, "end": 3, "rent_review": 4}


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    due_on: date
    agreement_id: int
    reference: str
    organisation_id: int
    organisation_name: str
    text: str

    def out(self) -> AlertOut:
        return AlertOut(
            kind=self.kind,
            due_on=self.due_on,
            agreement_id=self.agreement_id,
            reference=self.reference,
            organisation_id=self.organisation_id,
            organisation_name=self.organisation_name,
            text=self.text,
        )


def _when(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


async def alerts(db: AsyncSession, settings: Settings, today: date) -> list[Alert]:
    horizon = today + timedelta(days=settings.agreement_alert_days)
    found: list[Alert] = []
    live = Agreement.status.in_(LIVE_AGREEMENT_STATUSES)
    base = (
        select(Agreement.id, Agreement.reference, Agreement.organisation_id, Organisation.name)
        .join(Organisation, Organisation.id == Agreement.organisation_id)
        .where(live)
    )

    ending = base.add_columns(Agreement.end_date, Agreement.status).where(
        Agreement.end_date.is_not(None), Agreement.end_date >= today, Agreement.end_date <= horizon
    )
    for agreement_id, reference, org_id, name, end_date, status in (await db.execute(ending)).all():
        why = " (notice given)" if status == "notice_given" else ""
        found.append(
            Alert(
                "end",
                end_date,
                agreement_id,
                reference,
                org_id,
                name,
                f"{reference} ends on {_when(end_date)}{why}",
            )
        )

    insurance = base.add_columns(Agreement.insurance_expires_on).where(
        Agreement.insurance_expires_on.is_not(None), Agreement.insurance_expires_on <= horizon
    )
    for agreement_id, reference, org_id, name, expires in (await db.execute(insurance)).all():
        verb = "expired on" if expires < today else "expires on"
        found.append(
            Alert(
                "insurance",
                expires,
                agreement_id,
                reference,
                org_id,
                name,
                f"Insurance certificate {verb} {_when(expires)}: ask for the new one",
            )
        )

    breaks = (
        base.add_columns(AgreementBreak.break_date, AgreementBreak.notice_days)
        .join(AgreementBreak, AgreementBreak.agreement_id == Agreement.id)
        # Every break still to come: its last notice day may fall in the window while it is further off.
        .where(AgreementBreak.break_date >= today)
    )
    for agreement_id, reference, org_id, name, break_date, notice_days in (await db.execute(breaks)).all():
        last_notice = break_date - timedelta(days=notice_days)
        due = last_notice if last_notice >= today else break_date
        if due > horizon:
            continue
        if last_notice >= today:
            text = f"Break date {_when(break_date)}: last day to give notice {_when(last_notice)}"
        else:
            text = f"Break date {_when(break_date)}: the last day to give notice has passed"
        found.append(Alert("break", due, agreement_id, reference, org_id, name, text))

    reviews = (
        base.add_columns(
            RentReview.review_date,
            RentReview.uplift_bp,
            RentReview.index_name,
            RentReview.new_rent_pence_per_year,
        )
        .join(RentReview, RentReview.agreement_id == Agreement.id)
        .where(RentReview.review_date >= today, RentReview.review_date <= horizon)
    )
    for agreement_id, reference, org_id, name, review_date, uplift_bp, index_name, new_rent in (
        await db.execute(reviews)
    ).all():
        if uplift_bp is not None:
            how = f"fixed uplift {uplift_bp / 100:g}%"
        elif new_rent is None:
            how = f"by {index_name}: apply it by hand"
        else:
            how = f"by {index_name}"
        rent = f", new rent {format_pence(new_rent)} a year" if new_rent is not None else ""
        found.append(
            Alert(
                "rent_review",
                review_date,
                agreement_id,
                reference,
                org_id,
                name,
                f"Rent review on {_when(review_date)} ({how}){rent}",
            )
        )

    debt = await aged_debt(db, settings, on=today)
    owing = {row.organisation_id: row for row in debt.rows if row.overdue_pence > 0 and row.total_pence > 0}
    if owing:
        tenants = (
            select(Agreement.id, Agreement.reference, Agreement.organisation_id, Organisation.name)
            .join(Organisation, Organisation.id == Agreement.organisation_id)
            .where(live_on(today), Agreement.organisation_id.in_(list(owing)))
            .order_by(Agreement.start_date)
        )
        seen: set[int] = set()
        for agreement_id, reference, org_id, name in (await db.execute(tenants)).all():
            if org_id in seen:
                continue
            seen.add(org_id)
            row = owing[org_id]
            found.append(
                Alert(
                    "arrears",
                    today,
                    agreement_id,
                    reference,
                    org_id,
                    name,
                    f"In arrears: {format_pence(row.overdue_pence)} overdue "
                    f"({format_pence(row.total_pence)} owed in all)",
                )
            )
    found.sort(key=lambda a: (a.due_on, ORDER[a.kind], a.organisation_name, a.reference))
    return found
