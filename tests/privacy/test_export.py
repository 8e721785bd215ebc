"""Subject access: an admin exports everything held about a person as a JSON file (issue 18 item 3)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hub.models import AuditEntry
from tests.conftest import Hub
from tests.privacy.conftest import (
    BOOKING_NAME,
    BOOKING_PHONE,
    EMAIL,
    MESSAGE_BODY,
    MESSAGE_SUBJECT,
    NAME,
    ORG_NAME,
    ORG_PHONE,
    TYPED_EMAIL,
    Scenario,
)

EXPORT = "/api/v1/privacy/export"


def export(hub: Hub, s: Scenario, email: str = TYPED_EMAIL) -> Any:
    return hub.client.post(EXPORT, json={"email": email}, headers=s.admin)


def test_export_is_a_json_file_named_for_the_day(hub: Hub, scenario: Scenario) -> None:
    response = export(hub, scenario)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    today = hub.client.app.state.settings.today().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="personal-data-{today}.json"'
    assert json.loads(response.content)["request"]["email"] == EMAIL


def test_export_holds_the_account_contacts_bookings_audit_outbox_and_invoices(
    hub: Hub, scenario: Scenario
) -> None:
    data = export(hub, scenario).json()
    account = data["account"]
    assert (account["id"], account["email"], account["name"], account["role"], account["active"]) == (
        scenario.person_id,
        EMAIL,
        NAME,
        "receptionist",
        True,
    )
    assert "password_hash" not in json.dumps(data)
    assert len(data["sessions"]) == 1
    assert [t["name"] for t in data["api_tokens"]] == ["test"]
    assert [a["succeeded"] for a in data["login_attempts"]] == [True]
    assert data["contacts"] == [
        {
            "organisation_id": scenario.organisation_id,
            "organisation": ORG_NAME,
            "name": NAME,
            "email": EMAIL,
            "phone": ORG_PHONE,
            "role": "Secretary",
        }
    ]
    assert data["billing_email_of"] == [
        {"organisation_id": scenario.organisation_id, "organisation": ORG_NAME}
    ]
    [booking] = data["modules"]["rooms"]["bookings"]
    assert (booking["id"], booking["contact_name"], booking["contact_email"], booking["contact_phone"]) == (
        scenario.booking_id,
        BOOKING_NAME,
        "PRIYA.SHAH@example.org",
        BOOKING_PHONE,
    )
    assert booking["title"] == "Lunch club committee"
    # The audit entries: her account made, the club (with her as contact) made, the booking she made.
    actions = {(e["action"], e["object_type"], e["object_id"]) for e in data["audit_entries"]}
    assert ("user.created", "user", str(scenario.person_id)) in actions
    assert ("organisation.created", "organisation", str(scenario.organisation_id)) in actions
    assert ("booking.created", "booking", str(scenario.booking_id)) in actions
    made_by_her = [e for e in data["audit_entries"] if e["action"] == "booking.created"]
    assert [e["actor"] for e in made_by_her] == [EMAIL]
    [message] = [m for m in data["mail_messages"] if m["id"] == scenario.message_id]
    assert (message["to_address"], message["to_name"], message["subject"], message["text_body"]) == (
        EMAIL,
        NAME,
        MESSAGE_SUBJECT,
        MESSAGE_BODY,
    )
    assert message["attachments"] == ["booking.ics"]  # by name only
    assert data["invoices"] == [
        {
            "number": scenario.invoice_number,
            "kind": "invoice",
            "issue_date": data["invoices"][0]["issue_date"],
            "customer_name": ORG_NAME,
            "customer_email": EMAIL,
        }
    ]
    assert data["modules"]["cafe"] == {
        "till_sessions_opened": [],
        "till_sessions_closed": [],
        "sales_rung": 0,
        "refunds_given": 0,
    }
    assert data["modules"]["tenants"] == {"agreement_notes": [], "unit_notes": []}


def test_export_is_audited_without_the_address(hub: Hub, scenario: Scenario) -> None:
    assert export(hub, scenario).status_code == 200
    entry = hub.run(lambda db: db.scalar(select(AuditEntry).where(AuditEntry.action == "person_exported")))
    assert entry is not None
    assert entry.actor_label == "office@hub.example"
    assert entry.changes["user_id"] == scenario.person_id
    assert EMAIL not in json.dumps(entry.changes).lower() + entry.summary.lower()


def test_unknown_or_malformed_address_is_refused_naming_email(hub: Hub, scenario: Scenario) -> None:
    response = export(hub, scenario, "nobody@example.org")
    assert response.status_code == 404
    body = response.json()
    assert body["errors"][0]["field"] == "email"
    assert "nobody@example.org" in body["detail"]
    for bad in ("not an email", "priya@", ""):
        response = export(hub, scenario, bad)
        assert response.status_code in (400, 422), (bad, response.text)
        assert response.json()["errors"][0]["field"] == "email", bad
