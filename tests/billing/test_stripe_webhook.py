"""Stripe's webhook, with events signed here exactly as Stripe signs them: only events signed with
our secret and recent enough are believed, each event id is acted on once, and a redelivery is
answered 200 (Stripe retries anything else for days) without writing anything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.billing.models import StripeIntent
from hub.config import Settings
from hub.db import utcnow
from hub.models import Role
from tests.billing.stripe_support import (
    counts,
    deliver,
    hub_for,
    intent_event,
    issue_invoice,
    live_server,
    signed_request,
    stripe_events,
    stripe_intents,
    stripe_settings,
)
from tests.conftest import Hub

PROBLEM = "application/problem+json"
SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"


@pytest.fixture
def stripe_hub(settings: Settings) -> Iterator[Hub]:
    """The app with Stripe configured (its API pointed where nothing listens: no test here may
    reach a Stripe)."""
    with hub_for(stripe_settings(settings)) as hub:
        yield hub


def an_invoice(hub: Hub) -> dict[str, Any]:
    """INV-000001: £50.00 + 20% VAT = £60.00, for a new organisation."""
    invoice = issue_invoice(hub.client, hub.headers_for(Role.RECEPTIONIST), hub.make_org())
    admin(hub)
    assert (invoice["number"], invoice["net_pence"], invoice["vat_pence"], invoice["gross_pence"]) == (
        "INV-000001",
        5_000,
        1_000,
        6_000,
    )
    return invoice


def admin(hub: Hub) -> dict[str, str]:
    """An admin's token headers, made once per test's app: making an account writes audit
    entries, which would spoil the before/after counts."""
    headers: dict[str, str] | None = getattr(hub, "stripe_test_admin", None)
    if headers is None:
        headers = hub.headers_for(Role.ADMIN)
        hub.stripe_test_admin = headers  # type: ignore[attr-defined]
    return headers


def invoice_now(hub: Hub, invoice_id: int) -> dict[str, Any]:
    response = hub.client.get(f"/api/v1/invoices/{invoice_id}", headers=admin(hub))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def unpaid(invoice: dict[str, Any]) -> tuple[str, int, int]:
    return invoice["status"], invoice["paid_pence"], invoice["outstanding_pence"]


async def _open_intent(db: Any, invoice_id: int) -> None:
    """A stored intent as "Pay now" leaves it: open, for the whole £60.00."""
    db.add(
        StripeIntent(
            invoice_id=invoice_id,
            intent_id="pi_1",
            amount_pence=6_000,
            status="created",
            last_error="",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    await db.commit()


def assert_problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert [e["field"] for e in problem["errors"]] == [field]
    return problem


def test_signed_payment_succeeded_pays_the_invoice(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    before = counts(hub)

    response = deliver(
        hub.client, intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"received": "evt_1", "outcome": "processed"}
    assert unpaid(invoice_now(hub, invoice["id"])) == ("paid", 6_000, 0)
    payments = hub.client.get(f"/api/v1/payments?invoice_id={invoice['id']}", headers=admin(hub)).json()
    assert payments["total"] == 1
    payment = payments["items"][0]
    assert (payment["method"], payment["amount_pence"], payment["unallocated_pence"]) == ("stripe", 6_000, 0)
    assert (payment["stripe_payment_intent_id"], payment["reference"]) == ("pi_1", "pi_1")
    assert payment["note"] == "Paid online for INV-000001"
    assert payment["allocations"] == [
        {"invoice_id": invoice["id"], "invoice_number": "INV-000001", "amount_pence": 6_000}
    ]
    after = counts(hub)
    # One payment, allocated once, two ledger lines (bank / debtors), one audit entry, one event.
    assert {k: after[k] - before[k] for k in after} == {
        "payments": 1,
        "allocations": 1,
        "ledger_entries": 2,
        "audit_entries": 1,
        "stripe_events": 1,
        "stripe_intents": 0,
        "invoices": 0,
    }
    assert stripe_events(hub) == [("evt_1", SUCCEEDED, f"payment {payment['id']} recorded for INV-000001")]
    check = hub.client.get("/api/v1/ledger/check", headers=admin(hub)).json()
    assert check == {"ok": True, "journals": 2, "entries": 5, "invoices": 1, "payments": 1, "problems": []}


def test_same_event_delivered_twice_is_answered_200_and_writes_nothing(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    event = intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])
    assert deliver(hub.client, event).json() == {"received": "evt_1", "outcome": "processed"}
    before = counts(hub)

    again = deliver(hub.client, event)

    # 200, not an error: Stripe retries any non-2xx answer for days.
    assert again.status_code == 200, again.text
    assert again.json() == {"received": "evt_1", "outcome": "duplicate"}
    assert counts(hub) == before
    assert unpaid(invoice_now(hub, invoice["id"])) == ("paid", 6_000, 0)


def test_two_events_for_one_payment_intent_record_one_payment(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    for event_id in ("evt_1", "evt_2"):
        response = deliver(
            hub.client,
            intent_event(event_id, SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"]),
        )
        assert response.status_code == 200, response.text

    assert counts(hub)["payments"] == 1
    assert unpaid(invoice_now(hub, invoice["id"])) == ("paid", 6_000, 0)
    assert [outcome for _, _, outcome in stripe_events(hub)] == [
        "payment 1 recorded for INV-000001",
        "payment for pi_1 already recorded",
    ]


def test_simultaneous_deliveries_record_one_payment(settings: Settings) -> None:
    """Stripe may deliver an event again while the first delivery is still being handled, and
    may send two events for one intent: ten at once, through a real server, pay once."""
    configured = stripe_settings(settings)
    with hub_for(configured) as hub, live_server(configured) as url:
        invoice = an_invoice(hub)
        first = intent_event("evt_a", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])
        second = intent_event("evt_b", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                return await asyncio.gather(
                    *(
                        client.post("/webhooks/stripe", **signed_request(first if i % 2 else second))
                        for i in range(10)
                    )
                )

        responses = asyncio.run(fire())
        assert sorted(r.status_code for r in responses) == [200] * 10, [r.text for r in responses]
        assert sorted(r.json()["outcome"] for r in responses) == ["duplicate"] * 8 + ["processed"] * 2
        assert counts(hub)["payments"] == 1
        assert sorted(event_id for event_id, _, _ in stripe_events(hub)) == ["evt_a", "evt_b"]
        assert unpaid(invoice_now(hub, invoice["id"])) == ("paid", 6_000, 0)
        check = hub.client.get("/api/v1/ledger/check", headers=admin(hub)).json()
        assert (check["ok"], check["problems"], check["payments"]) == (True, [], 1)


def test_event_signed_with_another_secret_is_refused(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    before = counts(hub)

    response = deliver(
        hub.client,
        intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"]),
        secret="whsec_someone_else",
    )

    assert_problem(response, 400, "Stripe-Signature")
    assert counts(hub) == before
    assert unpaid(invoice_now(hub, invoice["id"])) == ("issued", 0, 6_000)


def test_stale_event_is_refused_even_correctly_signed(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    before = counts(hub)

    response = deliver(
        hub.client,
        intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"]),
        timestamp=int(time.time()) - 600,  # tolerance is 300 s
    )

    assert_problem(response, 400, "Stripe-Signature")
    assert counts(hub) == before
    assert unpaid(invoice_now(hub, invoice["id"])) == ("issued", 0, 6_000)


def test_event_without_signature_header_is_refused(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    before = counts(hub)

    response = deliver(
        hub.client,
        intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"]),
        signed=False,
    )

    problem = assert_problem(response, 400, "Stripe-Signature")
    assert problem["detail"] == "the Stripe-Signature header is missing"
    assert counts(hub) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),  # not UTF-8: refused by the signature check, which needs text
        (b'{"type": "payment_intent.succeeded"}', 422),  # no event id
        (b"[]", 422),
    ],
    ids=["not-json", "not-utf8", "no-event-id", "not-an-object"],
)
def test_correctly_signed_body_that_is_not_an_event_is_refused(
    stripe_hub: Hub, body: bytes, status: int
) -> None:
    hub = stripe_hub
    before = counts(hub)

    response = deliver(hub.client, body)

    assert_problem(response, status, "body")
    assert counts(hub) == before


def test_unhandled_event_type_is_stored_once_and_ignored(stripe_hub: Hub) -> None:
    hub = stripe_hub
    event = {
        "id": "evt_c",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1"}},
    }
    before = counts(hub)

    first = deliver(hub.client, event)
    again = deliver(hub.client, event)

    assert (first.status_code, first.json()) == (200, {"received": "evt_c", "outcome": "ignored"})
    assert (again.status_code, again.json()) == (200, {"received": "evt_c", "outcome": "duplicate"})
    assert stripe_events(hub) == [("evt_c", "customer.created", "ignored")]
    after = counts(hub)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"stripe_events": 1}


def test_webhook_is_not_found_when_stripe_is_not_configured(hub: Hub) -> None:
    assert hub.client.app.state.settings.stripe_webhook_secret is None
    invoice = an_invoice(hub)
    before = counts(hub)

    response = deliver(
        hub.client, intent_event("evt_1", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])
    )

    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "HUB_STRIPE_WEBHOOK_SECRET" in response.json()["detail"]
    assert counts(hub) == before
    assert unpaid(invoice_now(hub, invoice["id"])) == ("issued", 0, 6_000)


def test_pay_now_without_stripe_is_refused_not_an_error(hub: Hub) -> None:
    assert hub.client.app.state.settings.stripe_secret_key is None
    invoice = an_invoice(hub)
    staff = hub.headers_for(Role.RECEPTIONIST)
    before = counts(hub)

    response = hub.client.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=staff)

    problem = assert_problem(response, 422, "invoice_id")
    assert problem["detail"] == "online payment is not set up here; pay by bank transfer instead"
    assert counts(hub) == before


def test_payment_failed_is_recorded_and_leaves_the_invoice_unpaid(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)

    hub.run(lambda db: _open_intent(db, invoice["id"]))
    before = counts(hub)

    response = deliver(
        hub.client,
        intent_event(
            "evt_f",
            FAILED,
            intent_id="pi_1",
            amount=6_000,
            invoice_id=invoice["id"],
            error="Your card was declined.",
        ),
    )

    assert (response.status_code, response.json()) == (200, {"received": "evt_f", "outcome": "processed"})
    assert stripe_intents(hub) == [("pi_1", 6_000, "requires_payment_method", "Your card was declined.")]
    assert stripe_events(hub) == [("evt_f", FAILED, "failure recorded: Your card was declined.")]
    assert unpaid(invoice_now(hub, invoice["id"])) == ("issued", 0, 6_000)
    after = counts(hub)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "audit_entries": 1,
        "stripe_events": 1,
    }
    audit = hub.client.get("/api/v1/audit?action=invoice.payment_failed", headers=admin(hub)).json()
    assert [(e["object_type"], e["object_id"], e["summary"], e["reason"]) for e in audit["items"]] == [
        (
            "invoice",
            str(invoice["id"]),
            "Online payment for INV-000001 failed: Your card was declined.",
            "Your card was declined.",
        )
    ]


def test_late_failure_event_does_not_undo_a_succeeded_intent(stripe_hub: Hub) -> None:
    hub = stripe_hub
    invoice = an_invoice(hub)
    hub.run(lambda db: _open_intent(db, invoice["id"]))
    succeeded = intent_event("evt_2", SUCCEEDED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"])
    # The first card was declined, the second paid; the events arrive the other way round.
    declined = intent_event(
        "evt_1", FAILED, intent_id="pi_1", amount=6_000, invoice_id=invoice["id"], error="Declined."
    )
    assert deliver(hub.client, succeeded).status_code == 200
    assert deliver(hub.client, declined).status_code == 200

    assert unpaid(invoice_now(hub, invoice["id"])) == ("paid", 6_000, 0)
    assert [(intent, status) for intent, _, status, _ in stripe_intents(hub)] == [("pi_1", "succeeded")]
