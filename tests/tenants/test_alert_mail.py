"""Issue 18, mail that is never lost: an agreement alert to staff. Each active admin and
receptionist gets one digest a day of what the alerts page lists, however often the scheduler asks;
trustees, tenants and inactive accounts get nothing; with nothing due, nobody is written to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.mail import MailMessage
from hub.models import Role
from tenants.mail import queue_agreement_alerts
from tests.conftest import Hub
from tests.tenants.conftest import hub_settings, make_agreement, make_unit

# 09:00 in London on 1 December 2026: the 90-day window runs to 1 March 2027.
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def messages(hub: Hub) -> list[MailMessage]:
    async def work(db: Any) -> list[MailMessage]:
        return list(await db.scalars(select(MailMessage).order_by(MailMessage.id)))

    return hub.run(work)


def test_each_admin_and_receptionist_gets_one_digest_a_day(hub: Hub) -> None:
    settings = hub_settings(hub)
    org = hub.make_org("Fleetwood Food Bank")
    make_agreement(hub, org, [make_unit(hub, "Office 1")], date(2024, 3, 1), date(2027, 2, 28))
    admin = hub.make_user(Role.ADMIN, email="amira@hub.example")
    desk = hub.make_user(Role.RECEPTIONIST, email="rob@hub.example")
    hub.make_user(Role.RECEPTIONIST, email="gone@hub.example", active=False)
    hub.make_user(Role.TRUSTEE, email="margaret@hub.example")
    hub.make_user(Role.TENANT, organisation_id=org, email="dean@foodbank.example")

    before_seven = datetime(2026, 12, 1, 6, 59, tzinfo=UTC)  # 06:59 in London: not yet
    assert hub.run(lambda db: queue_agreement_alerts(db, settings, before_seven)) == 0
    assert hub.run(lambda db: queue_agreement_alerts(db, settings, MORNING)) == 2
    assert hub.run(lambda db: queue_agreement_alerts(db, settings, MORNING + timedelta(hours=8))) == 0
    found = messages(hub)
    assert sorted(m.to_address for m in found) == [admin.email, desk.email]
    for message in found:
        assert message.kind == "agreement_alerts"
        assert message.subject == "Tenancies: 1 alert for 01 December 2026"
        assert message.dedupe_key is not None and message.dedupe_key.endswith(":2026-12-01")
        assert "Fleetwood Food Bank" in message.text_body
        assert "ends on 28 Feb 2027" in message.text_body
        assert message.html_body is not None and "Fleetwood Food Bank" in message.html_body

    # The next day brings the next digest.
    assert hub.run(lambda db: queue_agreement_alerts(db, settings, MORNING + timedelta(days=1))) == 2
    assert len(messages(hub)) == 4


def test_nothing_due_writes_to_nobody(hub: Hub) -> None:
    settings = hub_settings(hub)
    hub.make_user(Role.ADMIN)
    assert hub.run(lambda db: queue_agreement_alerts(db, settings, MORNING)) == 0
    assert messages(hub) == []
