"""Issue 18 "Done when": the mail server is down when an invoice is issued — the invoice is still
issued (its number assigned); when the server is back, the message arrives exactly once, with a
PDF attachment that opens as a PDF."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.config import Settings
from hub.db import utcnow
from hub.mail import MailMessage
from hub.mail.sender import send_due
from hub.models import Role
from tests.conftest import Hub
from tests.mail.conftest import MailServer


def test_an_invoice_issued_while_the_mail_server_is_down_is_mailed_once_when_it_is_back(
    settings: Settings, idle_port: MailServer
) -> None:
    configured = idle_port.settings_for(settings)
    with TestClient(create_app(configured), base_url="http://testserver.local") as client:
        hub = Hub(client)
        staff = hub.headers_for(Role.RECEPTIONIST)
        org = client.post(
            "/api/v1/organisations",
            json={
                "name": "Fleetwood Knitters",
                "kind": "vcse",
                "billing_email": "treasurer@knitters.example",
            },
            headers=staff,
        )
        assert org.status_code == 201, org.text
        charge = client.post(
            "/api/v1/charges",
            json={
                "organisation_id": org.json()["id"],
                "description": "Extra cleaning",
                "net_pence": 4_500,
                "supply_date": str(configured.today()),
            },
            headers=staff,
        )
        assert charge.status_code == 201, charge.text
        issued = client.post("/api/v1/invoices", json={"organisation_id": org.json()["id"]}, headers=staff)
        assert issued.status_code == 201, issued.text
        invoice = issued.json()
        assert invoice["status"] == "issued"
        assert invoice["number"].startswith("INV-")

        async def outbox(db: AsyncSession) -> list[MailMessage]:
            return list(await db.scalars(select(MailMessage)))

        # The app's own sender tried at once (after the commit) and found nobody there.
        deadline = time.monotonic() + 10
        while hub.run(outbox)[0].attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        [waiting] = hub.run(outbox)
        assert (waiting.kind, waiting.status, waiting.attempts) == ("invoice_issued", "pending", 1)
        assert "could not be reached" in waiting.last_error

        served = client.get(f"/invoices/{invoice['id']}.pdf", headers=staff)
        assert served.status_code == 200
        idle_port.start()
        try:
            # When the retry falls due, the app's sender and a `hubkeeper mail send` from cron
            # both go for it: it arrives once.
            due = waiting.next_attempt_at
            state = client.app.state

            async def both() -> list[Any]:
                return list(
                    await asyncio.gather(
                        send_due(state.write_engine, configured, now=due),
                        send_due(state.write_engine, configured, now=due),
                    )
                )

            results = client.blocking_portal.call(both)
            time.sleep(0.3)
            assert sum(r.sent for r in results) == 1
            assert (
                client.blocking_portal.call(
                    lambda: send_due(state.write_engine, configured, now=utcnow())
                ).tried
                == 0
            )
        finally:
            idle_port.stop()

    [received] = idle_port.received
    assert received.rcpt_tos == ["treasurer@knitters.example"]
    email = received.message
    assert invoice["number"] in email["Subject"]
    [pdf] = list(email.iter_attachments())
    assert (pdf.get_content_type(), pdf.get_filename()) == ("application/pdf", f"{invoice['number']}.pdf")
    data = pdf.get_content()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    # The very document the invoice page serves to a browser.
    assert data == served.content
