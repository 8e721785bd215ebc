"""Paying online, end to end against localstripe (a local fake of Stripe's API): our API makes the
PaymentIntent at "Stripe", the customer pays it as Stripe.js would, and localstripe's signed
webhook reaches the app — served for real — which marks the invoice paid. Refunds go back
through Stripe's Refunds API.

localstripe's limits (so not tested here): it ignores idempotency keys, sends no refund events,
cannot retry an intent after a decline, and does not check over-refunds (the app must).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import stripe

from hub.models import Role
from tests.billing.stripe_support import (
    PUBLISHABLE_KEY,
    LiveHub,
    commercial_meeting_room,
    counts,
    issue_invoice,
    localstripe_fixture,  # noqa: F401 - the localstripe fixture
    stripe_events,
    stripe_intents,
    stripe_live_fixture,  # noqa: F401 - the stripe_live fixture
    stripe_refund_requests,
    today,
    wait_for,
)

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"


def get(live: LiveHub, path: str, *, as_admin: bool = False) -> Any:
    response = live.http.get(path, headers=live.admin if as_admin else live.staff)
    assert response.status_code == 200, response.text
    return response.json()


def pay_now(live: LiveHub, invoice_id: int) -> dict[str, Any]:
    response = live.http.post(f"/api/v1/invoices/{invoice_id}/pay", headers=live.staff)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_until_paid(live: LiveHub, invoice_id: int) -> dict[str, Any]:
    def paid() -> dict[str, Any] | None:
        invoice: dict[str, Any] = get(live, f"/api/v1/invoices/{invoice_id}")
        return invoice if invoice["status"] == "paid" else None

    return wait_for(f"localstripe's webhook to mark invoice {invoice_id} paid", paid)


def paid_online(live: LiveHub) -> tuple[dict[str, Any], dict[str, Any], str]:
    """INV-000001 (£50.00 + 20% VAT = £60.00) paid in full by card. Answers (invoice, payment,
    payment intent id)."""
    org = live.hub.make_org()
    invoice = issue_invoice(live.http, live.staff, org)
    assert (invoice["number"], invoice["gross_pence"]) == ("INV-000001", 6_000)
    intent_id = pay_now(live, invoice["id"])["payment_intent_id"]
    assert live.stripe.customer_pays(intent_id).status == "succeeded"
    invoice = wait_until_paid(live, invoice["id"])
    payments = get(live, f"/api/v1/payments?invoice_id={invoice['id']}")
    assert payments["total"] == 1
    return invoice, payments["items"][0], intent_id


def refunded_at_stripe(live: LiveHub, intent_id: str) -> int:
    """What Stripe says has been refunded of the intent's charge."""
    client = live.stripe.client()
    charge = client.v1.payment_intents.retrieve(intent_id).latest_charge
    assert charge is not None
    charge_id = charge if isinstance(charge, str) else charge.id
    return client.v1.charges.retrieve(charge_id).amount_refunded


def ledger_check(live: LiveHub) -> dict[str, Any]:
    check: dict[str, Any] = get(live, "/api/v1/ledger/check", as_admin=True)
    return check


def test_booking_is_invoiced_paid_online_and_reconciled(stripe_live: LiveHub) -> None:
    live = stripe_live
    room, company = commercial_meeting_room(live.hub)

    # A confirmed booking posts its hire charge: 2 h at £40/h, standard-rated.
    booking = live.http.post(
        "/api/v1/bookings",
        headers=live.staff,
        json={
            "room_id": room,
            "organisation_id": company,
            "title": "Staff training",
            "start": "2026-12-01T14:00:00",
            "end": "2026-12-01T16:00:00",
            "status": "confirmed",
        },
    )
    assert booking.status_code == 201, booking.text
    booking_id = booking.json()["id"]
    charges = get(live, f"/api/v1/charges?organisation_id={company}")["items"]
    assert [
        (c["net_pence"], c["vat_rate_bp"], c["vat_pence"], c["gross_pence"], c["stream"], c["status"])
        for c in charges
    ] == [(8_000, 2_000, 1_600, 9_600, "room_hire", "open")]
    assert (charges[0]["source_type"], charges[0]["source_id"]) == ("booking", str(booking_id))

    # The booking's charge is invoiced and issued.
    created = live.http.post(
        "/api/v1/invoices",
        headers=live.staff,
        json={"organisation_id": company, "source_type": "booking", "source_id": str(booking_id)},
    )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert (invoice["status"], invoice["number"]) == ("issued", "INV-000001")
    assert (invoice["net_pence"], invoice["vat_pence"], invoice["gross_pence"]) == (8_000, 1_600, 9_600)
    assert invoice["outstanding_pence"] == 9_600
    assert [line["charge_id"] for line in invoice["lines"]] == [charges[0]["id"]]

    # "Pay now" makes a PaymentIntent at Stripe for what is owed.
    pay = pay_now(live, invoice["id"])
    intent_id = pay["payment_intent_id"]
    assert intent_id.startswith("pi_")
    assert pay["client_secret"].startswith(f"{intent_id}_secret_")
    assert (pay["amount_pence"], pay["currency"], pay["publishable_key"]) == (9_600, "gbp", PUBLISHABLE_KEY)
    intent = live.stripe.client().v1.payment_intents.retrieve(intent_id)
    assert (intent.amount, intent.currency, intent.status) == (9_600, "gbp", "requires_payment_method")
    assert intent.client_secret == pay["client_secret"]
    metadata = intent.metadata.to_dict()
    # The attempt recorded before Stripe was asked: how the reconciler finds it again.
    assert metadata.pop("hub_attempt_id").isdigit()
    assert metadata == {
        "invoice_id": str(invoice["id"]),
        "invoice_number": "INV-000001",
        "organisation_id": str(company),
    }
    assert stripe_intents(live.hub) == [(intent_id, 9_600, "created", "")]

    # The customer pays by card; Stripe's signed webhook tells the hub.
    assert live.stripe.customer_pays(intent_id).status == "succeeded"
    paid = wait_until_paid(live, invoice["id"])

    assert (paid["paid_pence"], paid["outstanding_pence"]) == (9_600, 0)
    payments = get(live, f"/api/v1/payments?invoice_id={invoice['id']}")
    assert payments["total"] == 1
    payment = payments["items"][0]
    assert (payment["method"], payment["amount_pence"], payment["unallocated_pence"]) == ("stripe", 9_600, 0)
    assert (payment["stripe_payment_intent_id"], payment["stripe_refund_id"]) == (intent_id, None)
    assert payment["received_on"] == today().isoformat()
    assert payment["allocations"] == [
        {"invoice_id": invoice["id"], "invoice_number": "INV-000001", "amount_pence": 9_600}
    ]
    assert stripe_intents(live.hub) == [(intent_id, 9_600, "succeeded", "")]
    [(event_id, event_type, outcome)] = stripe_events(live.hub)
    assert (event_id[:4], event_type, outcome) == (
        "evt_",
        SUCCEEDED,
        f"payment {payment['id']} recorded for INV-000001",
    )
    # Invoice journal: debtors, income, VAT (3); payment journal: bank, debtors (2).
    assert ledger_check(live) == {
        "ok": True,
        "journals": 2,
        "entries": 5,
        "invoices": 1,
        "payments": 1,
        "problems": [],
    }


def test_pay_now_twice_offers_the_same_intent(stripe_live: LiveHub) -> None:
    live = stripe_live
    invoice = issue_invoice(live.http, live.staff, live.hub.make_org())
    first = pay_now(live, invoice["id"])
    before = counts(live.hub)

    second = pay_now(live, invoice["id"])

    assert second == first
    assert counts(live.hub) == before
    assert stripe_intents(live.hub) == [(first["payment_intent_id"], 6_000, "created", "")]
    at_stripe = live.stripe.client().v1.payment_intents.list()
    assert [intent.id for intent in at_stripe.data] == [first["payment_intent_id"]]
    started = get(live, "/api/v1/audit?action=invoice.pay_started", as_admin=True)
    assert started["total"] == 1


def test_declined_card_is_recorded_and_the_invoice_stays_unpaid(stripe_live: LiveHub) -> None:
    live = stripe_live
    invoice = issue_invoice(live.http, live.staff, live.hub.make_org())
    intent_id = pay_now(live, invoice["id"])["payment_intent_id"]

    with pytest.raises(stripe.CardError) as declined:
        live.stripe.customer_pays(intent_id, "pm_card_chargeCustomerFail")

    assert declined.value.http_status == 402
    wait_for("the payment_failed webhook", lambda: stripe_events(live.hub))
    assert [(t, outcome) for _, t, outcome in stripe_events(live.hub)] == [
        (FAILED, "failure recorded: Your card was declined.")
    ]
    assert stripe_intents(live.hub) == [
        (intent_id, 6_000, "requires_payment_method", "Your card was declined.")
    ]
    now = get(live, f"/api/v1/invoices/{invoice['id']}")
    assert (now["status"], now["paid_pence"], now["outstanding_pence"]) == ("issued", 0, 6_000)
    assert counts(live.hub)["payments"] == 0
    audit = get(live, "/api/v1/audit?action=invoice.payment_failed", as_admin=True)
    assert [(e["object_id"], e["summary"]) for e in audit["items"]] == [
        (str(invoice["id"]), "Online payment for INV-000001 failed: Your card was declined.")
    ]
    at_stripe = live.stripe.client().v1.payment_intents.retrieve(intent_id)
    assert at_stripe.last_payment_error is not None
    assert (at_stripe.status, at_stripe.last_payment_error.code) == (
        "requires_payment_method",
        "card_declined",
    )
    # Paying again offers the same intent, for another card (Stripe lets a declined intent retry).
    assert pay_now(live, invoice["id"])["payment_intent_id"] == intent_id
    assert ledger_check(live)["ok"] is True


def test_refund_goes_through_stripe_and_reopens_the_invoice(stripe_live: LiveHub) -> None:
    live = stripe_live
    invoice, payment, intent_id = paid_online(live)
    client = live.stripe.client()

    response = live.http.post(
        f"/api/v1/payments/{payment['id']}/refund",
        headers=live.staff,
        json={"amount_pence": 2_500, "reason": "Room was not cleaned", "invoice_id": invoice["id"]},
    )

    assert response.status_code == 201, response.text
    refund = response.json()
    assert (refund["method"], refund["amount_pence"], refund["refund_of_id"]) == (
        "stripe",
        -2_500,
        payment["id"],
    )
    assert refund["stripe_refund_id"].startswith("re_")
    assert refund["note"] == "Room was not cleaned"
    at_stripe = client.v1.refunds.retrieve(refund["stripe_refund_id"])
    assert (at_stripe.amount, at_stripe.payment_intent, at_stripe.status) == (2_500, intent_id, "succeeded")
    assert at_stripe.metadata is not None
    metadata = at_stripe.metadata.to_dict()
    # The refund request recorded before Stripe was asked: how a webhook or the reconciler finds it.
    assert metadata.pop("hub_refund_id").isdigit()
    assert metadata == {"payment_id": str(payment["id"])}
    assert refunded_at_stripe(live, intent_id) == 2_500
    now = get(live, f"/api/v1/invoices/{invoice['id']}")
    assert (now["status"], now["paid_pence"], now["outstanding_pence"]) == ("part_paid", 3_500, 2_500)
    original = get(live, f"/api/v1/payments/{payment['id']}")
    assert (original["refunded_pence"], original["unallocated_pence"]) == (2_500, 0)
    assert original["allocations"] == [
        {"invoice_id": invoice["id"], "invoice_number": "INV-000001", "amount_pence": 3_500}
    ]

    # £35.00 is left of the payment: a penny more is refused before Stripe is asked.
    before = counts(live.hub)
    too_much = live.http.post(
        f"/api/v1/payments/{payment['id']}/refund",
        headers=live.staff,
        json={"amount_pence": 3_501, "reason": "Goodwill", "invoice_id": invoice["id"]},
    )
    assert too_much.status_code == 422, too_much.text
    assert too_much.headers["content-type"].startswith("application/problem+json")
    problem = too_much.json()
    assert [e["field"] for e in problem["errors"]] == ["amount_pence"]
    assert problem["detail"] == "only £35.00 of this payment is left to refund"
    assert counts(live.hub) == before
    assert refunded_at_stripe(live, intent_id) == 2_500
    assert len(client.v1.refunds.list({"payment_intent": intent_id}).data) == 1
    # Invoice journal (3), payment (2), refund (2).
    assert ledger_check(live) == {
        "ok": True,
        "journals": 3,
        "entries": 7,
        "invoices": 1,
        "payments": 2,
        "problems": [],
    }


def test_card_payment_beyond_what_is_owed_becomes_credit(stripe_live: LiveHub) -> None:
    live = stripe_live
    org = live.hub.make_org()
    invoice = issue_invoice(live.http, live.staff, org)
    intent_id = pay_now(live, invoice["id"])["payment_intent_id"]  # for £60.00
    # £10.00 arrives by bank transfer before the customer pays online.
    bacs = live.http.post(
        "/api/v1/payments",
        headers=live.staff,
        json={
            "organisation_id": org,
            "method": "bacs",
            "amount_pence": 1_000,
            "received_on": today().isoformat(),
            "reference": "BACS 0042",
            "allocations": [{"invoice_id": invoice["id"], "amount_pence": 1_000}],
        },
    )
    assert bacs.status_code == 201, bacs.text
    part = get(live, f"/api/v1/invoices/{invoice['id']}")
    assert (part["status"], part["paid_pence"], part["outstanding_pence"]) == ("part_paid", 1_000, 5_000)

    assert live.stripe.customer_pays(intent_id).status == "succeeded"
    paid = wait_until_paid(live, invoice["id"])

    assert (paid["paid_pence"], paid["outstanding_pence"]) == (6_000, 0)
    stripe_payments = [
        p for p in get(live, f"/api/v1/payments?organisation_id={org}")["items"] if p["method"] == "stripe"
    ]
    assert [
        (p["amount_pence"], p["unallocated_pence"], p["stripe_payment_intent_id"]) for p in stripe_payments
    ] == [(6_000, 1_000, intent_id)]
    assert stripe_payments[0]["allocations"] == [
        {"invoice_id": invoice["id"], "invoice_number": "INV-000001", "amount_pence": 5_000}
    ]
    aged = get(live, "/api/v1/aged-debt")
    # Aged debt nets the credit off: nothing owed, £10.00 in hand.
    rows = [(r["organisation_id"], r["total_pence"], r["credit_pence"]) for r in aged["rows"]]
    assert rows == [(org, -1_000, 1_000)]
    assert ledger_check(live) == {
        "ok": True,
        "journals": 3,
        "entries": 7,
        "invoices": 1,
        "payments": 2,
        "problems": [],
    }

    # The credit can be paid back to the card, without touching the paid invoice.
    refund = live.http.post(
        f"/api/v1/payments/{stripe_payments[0]['id']}/refund",
        headers=live.staff,
        json={"amount_pence": 1_000, "reason": "Paid twice"},
    )
    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount_pence"], refund.json()["allocations"]) == (-1_000, [])
    assert refunded_at_stripe(live, intent_id) == 1_000
    assert get(live, f"/api/v1/payments/{stripe_payments[0]['id']}")["unallocated_pence"] == 0
    after = get(live, f"/api/v1/invoices/{invoice['id']}")
    assert (after["status"], after["paid_pence"]) == ("paid", 6_000)
    assert ledger_check(live)["ok"] is True


def test_refund_when_stripe_is_down_pays_nothing_back_and_stays_pending(stripe_live: LiveHub) -> None:
    """The request is recorded before Stripe is asked (so a crash cannot lose it); nothing is
    paid back in the books until Stripe says so, and the pending amount cannot be refunded twice."""
    live = stripe_live
    invoice, payment, _ = paid_online(live)
    live.stripe.stop()
    before = counts(live.hub)

    response = live.http.post(
        f"/api/v1/payments/{payment['id']}/refund",
        headers=live.staff,
        json={"amount_pence": 2_500, "reason": "Room was not cleaned", "invoice_id": invoice["id"]},
    )

    assert response.status_code == 502, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert detail.startswith("Stripe: could not be reached"), detail
    assert "recorded as pending" in detail
    # One audit entry (the request); no payment, allocation or ledger entry.
    assert counts(live.hub) == {**before, "audit_entries": before["audit_entries"] + 1}
    assert stripe_refund_requests(live.hub) == [(payment["id"], 2_500, "pending", None)]
    now = get(live, f"/api/v1/invoices/{invoice['id']}")
    assert (now["status"], now["paid_pence"]) == ("paid", 6_000)
    # £60 paid, £25 waiting on Stripe: only £35 more may be asked for meanwhile.
    more = live.http.post(
        f"/api/v1/payments/{payment['id']}/refund",
        headers=live.staff,
        json={"amount_pence": 3_501, "reason": "Goodwill", "invoice_id": invoice["id"]},
    )
    assert more.status_code == 422, more.text
    assert more.json()["detail"] == (
        "only £35.00 of this payment is left to refund (a refund is still waiting for Stripe)"
    )


def test_tenant_may_pay_its_own_invoice_online_but_not_another(stripe_live: LiveHub) -> None:
    live = stripe_live
    org, other = live.hub.make_org(), live.hub.make_org()
    invoice = issue_invoice(live.http, live.staff, org)
    own = live.hub.headers_for(Role.TENANT, organisation_id=org)
    stranger = live.hub.headers_for(Role.TENANT, organisation_id=other)
    before = counts(live.hub)

    refused = live.http.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=stranger)

    assert refused.status_code == 404, refused.text
    assert counts(live.hub) == before
    assert live.stripe.client().v1.payment_intents.list().data == []
    allowed = live.http.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=own)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["amount_pence"] == 6_000


def test_simultaneous_pay_now_makes_one_intent(stripe_live: LiveHub) -> None:
    """A double (or triple) click on "Pay now": one intent, so the customer cannot pay twice."""
    live = stripe_live
    invoice = issue_invoice(live.http, live.staff, live.hub.make_org())

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(live.http.base_url), timeout=30) as client:
            return await asyncio.gather(
                *(client.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=live.staff) for _ in range(5))
            )

    responses = asyncio.run(fire())

    assert [r.status_code for r in responses] == [200] * 5, [r.text[:300] for r in responses]
    at_stripe = [intent.id for intent in live.stripe.client().v1.payment_intents.list().data]
    ours = stripe_intents(live.hub)
    assert len(at_stripe) == 1, f"{len(at_stripe)} PaymentIntents at Stripe for one invoice: {ours}"
    assert {r.json()["payment_intent_id"] for r in responses} == set(at_stripe)
    assert ours == [(at_stripe[0], 6_000, "created", "")]
