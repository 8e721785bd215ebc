"""Issue 18, mail that is never lost: an invoice or credit note is emailed (its PDF attached) in the
transaction that issues it, to the organisation's billing contact; a statement is emailed on request.

Expected values come from the issue and the rule in ``hub/billing/services/mailing.py``'s brief:
the billing email (else the first contact with an email) receives "Invoice INV-… from <hub>"
with the very PDF the invoice page serves; no address → no message; a rolled-back issue leaves
no message behind.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from hub.auth import Identity
from hub.billing.schemas import InvoiceCreate
from hub.billing.services import invoices
from hub.mail import MailMessage
from hub.models import AuditEntry, Role
from hub.schemas import ContactIn
from tests.conftest import Hub

ACCOUNTS = "accounts@coastal.example"


def messages(hub: Hub) -> list[MailMessage]:
    async def work(db: Any) -> list[MailMessage]:
        return list(await db.scalars(select(MailMessage).order_by(MailMessage.id)))

    return hub.run(work)


def charge(hub: Hub, staff: dict[str, str], organisation_id: int, net: int = 12_000) -> int:
    payload = {
        "organisation_id": organisation_id,
        "description": "Extra cleaning after the event",
        "net_pence": net,
        "supply_date": "2026-11-20",
    }
    response = hub.client.post("/api/v1/charges", json=payload, headers=staff)
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def invoice(hub: Hub, staff: dict[str, str], organisation_id: int, **fields: Any) -> dict[str, Any]:
    response = hub.client.post(
        "/api/v1/invoices", json={"organisation_id": organisation_id, **fields}, headers=staff
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_issuing_an_invoice_queues_one_message_with_the_pdf_the_invoice_page_serves(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    charge(hub, staff, org)
    issued = invoice(hub, staff, org)
    assert issued["number"] == "INV-000001"

    [message] = messages(hub)
    assert message.kind == "invoice_issued"
    assert message.status == "pending"
    assert message.to_address == ACCOUNTS
    assert message.to_name == "Coastal Youth Trust"
    assert message.subject == "Invoice INV-000001 from Fleetwood Community Hub"
    assert (message.about_type, message.about_id) == ("invoice", str(issued["id"]))
    assert message.dedupe_key == f"invoice_issued:{issued['id']}"
    settings = hub.client.app.state.settings
    due = settings.today() + timedelta(days=settings.payment_terms_days)
    assert "Amount due: £120.00" in message.text_body
    assert "Sort code 00-00-00" in message.text_body
    assert f"http://127.0.0.1:8000/invoices/{issued['id']}" in message.text_body
    assert f"Please pay by: {due:%A %d %B %Y}" in message.text_body
    assert message.html_body is not None and "INV-000001" in message.html_body

    [attachment] = message.attachments
    assert attachment.filename == "INV-000001.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.data.startswith(b"%PDF-")
    served = hub.client.get(f"/invoices/{issued['id']}.pdf", headers=staff)
    assert served.status_code == 200
    assert served.content == attachment.data
    hub.login_as(Role.RECEPTIONIST)
    assert f"Emailed to {ACCOUNTS} (pending)." in hub.client.get(f"/invoices/{issued['id']}").text


def test_a_draft_queues_nothing_until_it_is_issued_and_then_once(hub: Hub) -> None:
    staff = hub.headers_for(Role.ADMIN)
    org = hub.make_org(billing_email=ACCOUNTS)
    charge(hub, staff, org)
    draft = invoice(hub, staff, org, issue=False)
    assert messages(hub) == []
    response = hub.client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=staff)
    assert response.status_code in (200, 201), response.text
    again = hub.client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=staff)
    assert again.status_code == 409
    assert [m.kind for m in messages(hub)] == ["invoice_issued"]


def test_a_credit_note_is_emailed_with_its_own_pdf(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    charge(hub, staff, org)
    issued = invoice(hub, staff, org)
    response = hub.client.post(
        f"/api/v1/invoices/{issued['id']}/credit-notes",
        json={"reason": "Room was double-booked"},
        headers=staff,
    )
    assert response.status_code == 201, response.text
    note = response.json()
    first, second = messages(hub)
    assert first.kind == "invoice_issued"
    assert second.kind == "credit_note_issued"
    assert second.subject == "Credit note CN-000001 from Fleetwood Community Hub"
    assert "Room was double-booked" in second.text_body
    [attachment] = second.attachments
    assert attachment.filename == "CN-000001.pdf"
    assert attachment.data == hub.client.get(f"/invoices/{note['id']}.pdf", headers=staff).content


def test_the_first_contact_with_an_email_receives_it_when_there_is_no_billing_email(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org(
        contacts=[ContactIn(name="No Email"), ContactIn(name="Dana Treasurer", email="dana@coastal.example")]
    )
    charge(hub, staff, org)
    invoice(hub, staff, org)
    [message] = messages(hub)
    assert (message.to_address, message.to_name) == ("dana@coastal.example", "Dana Treasurer")


def test_an_organisation_with_no_email_gets_no_message_and_the_invoice_is_still_issued(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org(contacts=[ContactIn(name="Phone Only", phone="01253 000000")])
    charge(hub, staff, org)
    issued = invoice(hub, staff, org)
    assert issued["number"] == "INV-000001"
    assert messages(hub) == []
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/invoices/{issued['id']}").text
    assert "Not emailed: no message was queued when it was issued." in page


def test_an_issue_rolled_back_leaves_no_message(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org(billing_email=ACCOUNTS)
    charge(hub, staff, org)
    settings = hub.client.app.state.settings

    async def issue_then_fail(db: Any) -> int:
        await invoices.create_invoice(
            db, settings, Identity.system("test"), InvoiceCreate(organisation_id=org), commit=False
        )
        queued = await db.scalar(select(func.count()).select_from(MailMessage))
        await db.rollback()  # something later in the same transaction failed
        return int(queued)

    assert hub.run(issue_then_fail) == 1  # it was queued inside the transaction…
    assert messages(hub) == []  # …and went with it
    listed = hub.client.get("/api/v1/invoices", params={"organisation_id": org}, headers=staff).json()
    assert listed["total"] == 0


def test_the_demo_seed_queues_no_mail(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org(billing_email=ACCOUNTS)
    charge(hub, staff, org)
    settings = hub.client.app.state.settings

    async def demo_issue(db: Any) -> None:
        data = InvoiceCreate(organisation_id=org)
        await invoices.create_invoice(db, settings, Identity.system("demo data"), data)

    hub.run(demo_issue)
    assert messages(hub) == []


# --- a statement on request ------------------------------------------------------------------------


def test_a_tenant_emails_its_own_statement_and_it_is_audited(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    charge(hub, staff, org)
    invoice(hub, staff, org)
    tenant = hub.headers_for(Role.TENANT, organisation_id=org)
    response = hub.client.post(f"/api/v1/organisations/{org}/statement/email", headers=tenant)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["to"] == ACCOUNTS
    statement = [m for m in messages(hub) if m.kind == "statement"]
    assert [m.id for m in statement] == [body["message_id"]]
    [message] = statement
    assert message.to_address == ACCOUNTS
    assert message.subject.startswith("Statement of account from Fleetwood Community Hub, to ")
    assert "INV-000001" in message.text_body
    assert "Closing balance: £120.00 owed to Fleetwood Community Hub" in message.text_body
    assert message.html_body is not None and "INV-000001" in message.html_body
    actions = hub.run(
        lambda db: db.scalars(select(AuditEntry.action).where(AuditEntry.action == "statement.emailed"))
    )
    assert list(actions) == ["statement.emailed"]


def test_another_organisations_statement_is_404_and_a_trustee_403(hub: Hub) -> None:
    mine = hub.make_org(billing_email=ACCOUNTS)
    theirs = hub.make_org(billing_email="other@elsewhere.example")
    tenant = hub.headers_for(Role.TENANT, organisation_id=mine)
    assert (
        hub.client.post(f"/api/v1/organisations/{theirs}/statement/email", headers=tenant).status_code == 404
    )
    trustee = hub.headers_for(Role.TRUSTEE)
    assert (
        hub.client.post(f"/api/v1/organisations/{mine}/statement/email", headers=trustee).status_code == 403
    )
    assert (
        hub.client.post(
            "/api/v1/organisations/999999/statement/email", headers=hub.headers_for(Role.ADMIN)
        ).status_code
        == 404
    )
    assert messages(hub) == []


def test_a_statement_with_nowhere_to_go_is_refused_naming_the_field(hub: Hub) -> None:
    org = hub.make_org()
    response = hub.client.post(
        f"/api/v1/organisations/{org}/statement/email", headers=hub.headers_for(Role.RECEPTIONIST)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "billing_email"
    assert messages(hub) == []


def test_the_statement_page_button_emails_it(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/organisations/{org}/statement")
    assert "Email this statement" in page.text
    token = hub.csrf(f"/organisations/{org}/statement")
    response = hub.client.post(
        f"/organisations/{org}/statement/email", data={"_csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/organisations/{org}/statement?from=")
    assert [m.kind for m in messages(hub)] == ["statement"]
    hub.login_as(Role.TRUSTEE)
    assert "Email this statement" not in hub.client.get(f"/organisations/{org}/statement").text
    # A tenant reaches its statement from the menu (/my/statement) and finds the button there.
    hub.login_as(Role.TENANT, organisation_id=org)
    mine = hub.client.get("/my/statement")
    assert mine.status_code == 200
    assert "Email this statement" in mine.text


def test_the_button_emails_the_period_the_page_shows(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    hub.login_as(Role.RECEPTIONIST)
    shown = f"/organisations/{org}/statement?from=2026-01-01&to=2026-06-30"
    page = hub.client.get(shown).text
    # What the browser sends: the form's own fields, as the page wrote them.
    form = re.search(r'<form method="post" action="[^"]*/statement/email".*?</form>', page, re.S)
    assert form is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    assert fields["from"] == "2026-01-01" and fields["to"] == "2026-06-30"
    response = hub.client.post(f"/organisations/{org}/statement/email", data=fields, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == shown  # back to the same period
    [message] = [m for m in messages(hub) if m.kind == "statement"]
    assert "01 January 2026 to 30 June 2026" in message.text_body
    assert message.subject.endswith("to 30 June 2026")
    assert "for 1 January 2026 to 30 June 2026 will be emailed to" in hub.client.get(shown).text


def test_a_period_that_does_not_read_sends_nothing_and_says_why(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust", billing_email=ACCOUNTS)
    hub.login_as(Role.RECEPTIONIST)
    token = hub.csrf(f"/organisations/{org}/statement")
    for bad in ({"from": "31/02/2026"}, {"from": "2026-07-01", "to": "2026-01-01"}):
        response = hub.client.post(
            f"/organisations/{org}/statement/email", data={"_csrf": token, **bad}, follow_redirects=True
        )
        assert response.status_code == 200
        assert "The statement was not sent:" in response.text
    assert messages(hub) == []


def test_a_contact_name_with_a_line_break_never_reaches_a_message(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(
        "/api/v1/organisations",
        json={
            "name": "Injection Club",
            "kind": "vcse",
            "contacts": [{"name": "Eve\r\nBcc: x@y.example", "email": "eve@club.example"}],
        },
        headers=staff,
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "contacts[0].name"
    assert messages(hub) == []
