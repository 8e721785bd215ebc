"""The message tenancies send: a daily digest of agreement alerts to the staff who act on them.

:func:`queue_agreement_alerts` is a ``hub.mail.SCHEDULED`` provider. It reads the same alerts the
alerts page shows (:func:`tenants.services.alerts.alerts`: agreements ending, break dates by their
last notice day, rent reviews, insurance expiring, tenants in arrears) and, when there are any,
queues one digest per active admin and receptionist per day, from 07:00 in the building's time
zone (``dedupe_key`` per user and day), so however often the sender asks, each gets one message a day.
Trustees read the alerts page but are not written to: the alerts are work for staff.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.config import Settings
from hub.errors import RuleViolation
from hub.models import Role, User
from tenants.services.alerts import alerts

TENANTS_DIR = Path(__file__).resolve().parent
# The day's digest is queued at the first ask from this hour (building's time) onwards.
DIGEST_HOUR = 7
KIND_LABELS = {
    "arrears": "Arrears",
    "insurance": "Insurance",
    "break": "Break date",
    "end": "Agreement ends",
    "rent_review": "Rent review",
}


async def queue_agreement_alerts(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Queue today's digest for each active admin and receptionist (none when nothing is due);
    commits; answers how many messages it queued."""
    local = now.astimezone(settings.zone)
    if local.hour < DIGEST_HOUR:
        return 0  # the day's digest waits for the morning, not the first minutes after midnight
    today = local.date()
    found = await alerts(db, settings, today)
    if not found:
        await db.rollback()  # only read: nothing to keep
        return 0
    staff = list(
        await db.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_([Role.ADMIN.value, Role.RECEPTIONIST.value]))
            .order_by(User.id)
        )
    )
    subject = f"Tenancies: {len(found)} alert{'s' if len(found) != 1 else ''} for {today:%d %B %Y}"
    queued = 0
    for user in staff:
        text, html = mail.render(
            TENANTS_DIR,
            "agreement_alerts",
            hub_name=settings.hub_name,
            subject=subject,
            name=user.name,
            today=f"{today:%A %d %B %Y}",
            alerts=[
                {
                    "label": KIND_LABELS.get(alert.kind, alert.kind),
                    "due": f"{alert.due_on.day} {alert.due_on:%b %Y}",
                    "organisation": alert.organisation_name,
                    "reference": alert.reference,
                    "text": alert.text,
                    "link": f"{settings.public_url}/tenancies/agreements/{alert.agreement_id}",
                }
                for alert in found
            ],
            link=f"{settings.public_url}/tenancies/alerts",
        )
        try:
            message = await mail.enqueue(
                db,
                kind="agreement_alerts",
                to=user.email,
                to_name=" ".join(user.name.split()),
                subject=subject,
                text=text,
                html=html,
                about=("user", user.id),
                dedupe_key=f"agreement_alerts:{user.id}:{today.isoformat()}",
            )
        except RuleViolation:
            continue  # an account whose address cannot be written to; the others still are
        queued += message is not None
    await db.commit()
    return queued
