"""Erasure: a person's data replaced by a pseudonym everywhere, while invoices, the ledger and the
audit log stay intact (issue 18 item 3 and its "Bad input")."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from hub.mail.models import MailMessage
from hub.models import AuditEntry, Role, User
from rooms.models import Booking
from tests.conftest import PASSWORD, Hub
from tests.privacy.conftest import (
    EMAIL,
    NEEDLES,
    TYPED_EMAIL,
    Scenario,
    audit_rows,
    dump,
    where,
)

ERASE = "/api/v1/privacy/erase"
REASON = "Erasure requested by letter dated 1 December 2026"
# Issued invoices keep the email copied onto them (HMRC: six years); nothing else may.
KEPT = {("invoices", "customer_email")}


def erase(hub: Hub, s: Scenario, **fields: Any) -> Any:
    payload = {"email": TYPED_EMAIL, "reason": REASON, "confirm": EMAIL, **fields}
    return hub.client.post(ERASE, json=payload, headers=s.admin)


def ledger_check(hub: Hub, headers: dict[str, str]) -> dict[str, Any]:
    response = hub.client.get("/api/v1/ledger/check", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def invoice(hub: Hub, s: Scenario) -> dict[str, Any]:
    response = hub.client.get(f"/api/v1/invoices/{s.invoice_id}", headers=s.admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_before_erasure_the_person_is_found_all_over_the_database(hub: Hub, scenario: Scenario) -> None:
    # The search below proves something only if it finds her before.
    values = dump(hub)
    found = where(values, EMAIL)
    assert {("users", "email"), ("organisation_contacts", "email"), ("bookings", "contact_email")} <= found
    assert {
        ("audit_log", "actor_label"),
        ("login_attempts", "email"),
        ("mail_messages", "to_address"),
    } <= found
    assert ("invoices", "customer_email") in found
    assert ("bookings", "contact_phone") in where(values, NEEDLES[4])


def test_after_erasure_she_is_found_only_in_the_kept_invoice_fields(hub: Hub, scenario: Scenario) -> None:
    response = erase(hub, scenario)
    assert response.status_code == 200, response.text
    values = dump(hub)
    for needle in NEEDLES:
        assert where(values, needle) <= KEPT, needle
    assert where(values, EMAIL) == KEPT


def test_erasure_answers_what_changed_and_what_was_kept(hub: Hub, scenario: Scenario) -> None:
    body = erase(hub, scenario).json()
    assert re.fullmatch(r"Erased person [0-9a-f]{10}", body["pseudonym"])
    counts = body["counts"]
    assert counts["account"] == 1
    assert counts["contacts"] == 1
    assert counts["sessions"] == 1
    assert counts["api_tokens_revoked"] == 1
    assert counts["login_attempts"] == 1
    assert counts["organisation_billing_emails"] == 1
    assert counts["rooms.bookings"] == 1
    assert counts["mail_messages_erased"] >= 1
    kept = body["kept"][0]
    assert kept["fields"] == ["customer_name", "customer_address", "customer_email"]
    assert scenario.invoice_number in kept["what"]
    assert kept["count"] == 1
    assert "six years" in kept["why"]


def test_the_account_is_closed_and_pseudonymised(hub: Hub, scenario: Scenario) -> None:
    pseudonym = erase(hub, scenario).json()["pseudonym"]
    user = hub.run(lambda db: db.get(User, scenario.person_id))
    assert user is not None
    token = pseudonym.removeprefix("Erased person ")
    assert (user.name, user.email, user.active) == (pseudonym, f"erased-{token}@erased.invalid", False)
    # Neither her address nor the pseudonym's signs in (a failed sign-in answers the form again: 400).
    assert hub.login(EMAIL).status_code == 400
    assert hub.login(user.email, PASSWORD).status_code == 400


def test_her_booking_keeps_its_times_and_price_with_the_pseudonym(hub: Hub, scenario: Scenario) -> None:
    before = hub.run(lambda db: db.get(Booking, scenario.booking_id))
    assert before is not None
    times = (before.start_at, before.end_at, before.price_net_pence, before.organisation_id)
    pseudonym = erase(hub, scenario).json()["pseudonym"]
    after = hub.run(lambda db: db.get(Booking, scenario.booking_id))
    assert after is not None
    assert (after.contact_name, after.contact_email, after.contact_phone) == (pseudonym, None, None)
    assert (after.start_at, after.end_at, after.price_net_pence, after.organisation_id) == times


def test_pending_mail_to_her_is_stopped(hub: Hub, scenario: Scenario) -> None:
    erase(hub, scenario)
    message = hub.run(lambda db: db.get(MailMessage, scenario.message_id))
    assert message is not None
    assert (message.status, message.last_error) == ("failed", "erased on request")
    assert message.text_body == "This message was erased on request (data protection)."
    assert message.to_address.endswith("@erased.invalid")


def test_invoice_ledger_and_audit_log_stay_intact(hub: Hub, scenario: Scenario) -> None:
    trustee = hub.headers_for(Role.TRUSTEE)
    invoice_before = invoice(hub, scenario)
    assert ledger_check(hub, trustee)["ok"] is True
    audit_before = audit_rows(hub)
    assert erase(hub, scenario).status_code == 200
    assert invoice(hub, scenario) == invoice_before
    assert ledger_check(hub, trustee)["ok"] is True
    audit_after = audit_rows(hub)
    assert audit_after[: len(audit_before)] == audit_before
    [added] = audit_after[len(audit_before) :]
    assert added[1:3] == ("person_erased", "person")


def test_erasure_is_audited_with_who_why_and_a_hash_not_the_address(hub: Hub, scenario: Scenario) -> None:
    pseudonym = erase(hub, scenario).json()["pseudonym"]
    entry = hub.run(lambda db: db.scalar(select(AuditEntry).where(AuditEntry.action == "person_erased")))
    assert entry is not None
    assert (entry.actor_id, entry.actor_label, entry.reason) == (
        scenario.admin_user_id,
        "office@hub.example",
        REASON,
    )
    assert entry.changes["pseudonym"] == pseudonym
    assert entry.changes["user_id"] == scenario.person_id
    assert re.fullmatch(r"[0-9a-f]{64}", entry.changes["email_hash"])
    assert EMAIL not in (json.dumps(entry.changes) + entry.summary + entry.reason).lower()


def test_a_repeated_request_is_recognised(hub: Hub, scenario: Scenario) -> None:
    pseudonym = erase(hub, scenario).json()["pseudonym"]
    again = erase(hub, scenario)
    assert again.status_code == 404
    assert again.json()["errors"][0]["field"] == "email"
    assert pseudonym in again.json()["detail"]


def test_bad_input_names_the_field_and_changes_nothing(hub: Hub, scenario: Scenario) -> None:
    before = dump(hub)
    refused = [
        (erase(hub, scenario, reason=""), 422, "reason"),
        (erase(hub, scenario, reason="   "), 422, "reason"),
        (
            hub.client.post(ERASE, json={"email": EMAIL, "confirm": EMAIL}, headers=scenario.admin),
            422,
            "reason",
        ),
        (erase(hub, scenario, confirm="priya.shah@example.com"), 422, "confirm"),
        (erase(hub, scenario, email="nobody@example.org", confirm="nobody@example.org"), 404, "email"),
    ]
    for response, status, field in refused:
        assert (response.status_code, response.json()["errors"][0]["field"]) == (status, field), response.text
    assert "nobody@example.org" in refused[-1][0].json()["detail"]
    malformed = erase(hub, scenario, email="priya shah", confirm="priya shah")
    assert malformed.status_code in (400, 422)
    assert malformed.json()["errors"][0]["field"] == "email"
    assert dump(hub) == before


def test_the_last_active_admin_is_refused_with_nothing_changed(hub: Hub) -> None:
    only_admin = hub.make_user(Role.ADMIN, email="only.admin@hub.example")
    headers = {"Authorization": f"Bearer {hub.token_for(only_admin)}"}
    before = dump(hub)
    response = hub.client.post(
        ERASE,
        json={"email": "only.admin@hub.example", "reason": REASON, "confirm": "only.admin@hub.example"},
        headers=headers,
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["field"] == "email"
    assert "last active admin" in response.json()["detail"]
    assert dump(hub) == before


def test_an_admin_cannot_erase_their_own_account(hub: Hub, scenario: Scenario) -> None:
    hub.make_user(Role.ADMIN)  # another admin: the hub would not be left without one
    response = erase(hub, scenario, email="office@hub.example", confirm="office@hub.example")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "email")


def test_only_admins_may_erase(hub: Hub, scenario: Scenario) -> None:
    for role in (Role.RECEPTIONIST, Role.TRUSTEE):
        response = hub.client.post(
            ERASE, json={"email": EMAIL, "reason": REASON, "confirm": EMAIL}, headers=hub.headers_for(role)
        )
        assert response.status_code == 403, role
    assert hub.run(lambda db: db.get(User, scenario.person_id)).email == EMAIL  # type: ignore[union-attr]
