"""Money that survives faults (each test runs on SQLite and PostgreSQL):

- a trustee cannot start a card payment (trustees change nothing);
- a Stripe that never answers costs Pay now and refunds a few seconds, and other people's
  writes carry on at their normal speed meanwhile (no call to Stripe under a database lock);
- a refund is made exactly once at Stripe: a retry with the same Idempotency-Key, the
  reconciler and Stripe's refund webhooks all settle the same request;
- a refund made in Stripe's dashboard is recorded from its webhook;
- money writes take an Idempotency-Key: the same key and body is one write and one answer;
- the ledger check reports what a crash leaves pending.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hub.billing.models import StripeRefund
from hub.billing.services import reconcile
from hub.db import utcnow
from hub.models import Role
from tests.billing.stripe_support import (
    LiveHub,
    LocalStripe,
    counts,
    deliver,
    hub_for,
    intent_event,
    issue_invoice,
    live_server,
    localstripe_fixture,  # noqa: F401 - the localstripe fixture
    stripe_intents,
    stripe_live_fixture,  # noqa: F401 - the stripe_live fixture
    stripe_refund_requests,
    stripe_settings,
    today,
    wait_for,
)
from tests.conftest import Hub

# The timeout the hub is given for one call to Stripe in these tests (seconds).
TIMEOUT = 2.0


class BlackHole:
    """A "Stripe" that accepts connections and never answers a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture(name="black_hole")
def black_hole_fixture() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()


def paid_by_webhook(
    hub: Hub, staff: dict[str, str], org: int, intent_id: str = "pi_test_1"
) -> tuple[int, int]:
    """INV-… for £60.00 paid in full by a (signed) Stripe webhook. Answers (invoice, payment)."""
    invoice = issue_invoice(hub.client, staff, org)
    event = intent_event(
        f"evt_{intent_id}",
        "payment_intent.succeeded",
        intent_id=intent_id,
        amount=6_000,
        invoice_id=invoice["id"],
    )
    response = deliver(hub.client, event)
    assert response.status_code == 200, response.text
    payments = hub.client.get(f"/api/v1/payments?invoice_id={invoice['id']}", headers=staff).json()
    assert payments["total"] == 1
    return invoice["id"], payments["items"][0]["id"]


# -- trustees change nothing ---------------------------------------------------------------------


def test_a_trustee_cannot_start_a_card_payment(stripe_live: LiveHub) -> None:
    live = stripe_live
    invoice = issue_invoice(live.http, live.staff, live.hub.make_org())
    trustee = live.hub.headers_for(Role.TRUSTEE)
    before = counts(live.hub)

    response = live.http.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=trustee)

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert counts(live.hub) == before
    assert stripe_intents(live.hub) == []
    assert live.stripe.client().v1.payment_intents.list().data == []


# -- a Stripe that never answers -------------------------------------------------------------------


def _timed_charges(url: str, staff: dict[str, str], org: int, until: threading.Event) -> list[float]:
    """POST manual charges one after another until ``until`` is set; answers each one's seconds."""
    took: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        while not until.is_set() or len(took) < 3:
            started = time.monotonic()
            response = http.post(
                "/api/v1/charges",
                headers=staff,
                json={
                    "organisation_id": org,
                    "description": "Extra cleaning",
                    "net_pence": 1_000,
                    "vat_rate_bp": 0,
                    "supply_date": today().isoformat(),
                },
            )
            took.append(time.monotonic() - started)
            assert response.status_code == 201, response.text
    return took


def test_a_stripe_that_never_answers_does_not_stop_other_writers(
    settings: Any, black_hole: BlackHole
) -> None:
    configured = replace(stripe_settings(settings, api_base=black_hole.url), stripe_timeout_seconds=TIMEOUT)
    with hub_for(configured) as hub, live_server(configured) as url:
        staff = hub.headers_for(Role.RECEPTIONIST)
        org, other = hub.make_org(), hub.make_org()
        invoice = issue_invoice(hub.client, staff, org)
        paid_invoice, payment_id = paid_by_webhook(hub, staff, other)

        # The normal speed of a write, measured first in the same run.
        quiet = threading.Event()
        quiet.set()
        baseline = statistics.median(_timed_charges(url, staff, other, quiet)[:10])

        # Pay now and a Stripe refund, each waiting on the black hole, while others write.
        done = threading.Event()
        outcomes: dict[str, tuple[int, float, dict[str, Any]]] = {}

        def call(name: str, path: str, body: dict[str, Any] | None) -> None:
            with httpx.Client(base_url=url, timeout=60) as http:
                started = time.monotonic()
                response = http.post(path, headers=staff, json=body)
                outcomes[name] = (response.status_code, time.monotonic() - started, response.json())

        callers = [
            threading.Thread(target=call, args=("pay", f"/api/v1/invoices/{invoice['id']}/pay", None)),
            threading.Thread(
                target=call,
                args=(
                    "refund",
                    f"/api/v1/payments/{payment_id}/refund",
                    {"amount_pence": 500, "reason": "Goodwill", "invoice_id": paid_invoice},
                ),
            ),
        ]
        for thread in callers:
            thread.start()
        during: list[float] = []
        writer = threading.Thread(target=lambda: during.extend(_timed_charges(url, staff, other, done)))
        writer.start()
        for thread in callers:
            thread.join(timeout=60)
        done.set()
        writer.join(timeout=60)

    status, took, problem = outcomes["pay"]
    assert status == 502, problem
    assert problem["detail"].startswith(f"Stripe: no answer within {TIMEOUT:g} seconds"), problem
    assert took < TIMEOUT + 3, f"Pay now took {took:.1f} s with a {TIMEOUT:g} s timeout"
    status, took, problem = outcomes["refund"]
    assert status == 502, problem
    assert "recorded as pending" in problem["detail"], problem
    assert took < TIMEOUT + 3, f"the refund took {took:.1f} s with a {TIMEOUT:g} s timeout"
    # Other people's writes went on at their normal speed while Stripe said nothing: the slowest
    # is nowhere near the Stripe timeout (before this fix they waited for it, then failed).
    assert len(during) >= 5, during
    slowest = max(during)
    print(
        f"writes: normal {baseline * 1000:.0f} ms; during the Stripe wait median "
        f"{statistics.median(during) * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms, {len(during)} writes"
    )
    assert slowest < max(0.5, 10 * baseline), (baseline, during)
    assert slowest < TIMEOUT / 2, during


# -- refunds exactly once ----------------------------------------------------------------------------


def test_a_retried_refund_with_the_same_key_is_one_refund_at_stripe(stripe_live: LiveHub) -> None:
    live = stripe_live
    org = live.hub.make_org()
    invoice_id, payment_id = _paid_at_localstripe(live, org)
    body = {"amount_pence": 1_000, "reason": "Double booked", "invoice_id": invoice_id}
    headers = {**live.staff, "Idempotency-Key": "refund-7f3c"}

    first = live.http.post(f"/api/v1/payments/{payment_id}/refund", headers=headers, json=body)
    again = live.http.post(f"/api/v1/payments/{payment_id}/refund", headers=headers, json=body)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    intent_id = live.hub.client.get(f"/api/v1/payments/{payment_id}", headers=live.staff).json()[
        "stripe_payment_intent_id"
    ]
    assert len(live.stripe.client().v1.refunds.list({"payment_intent": intent_id}).data) == 1
    assert stripe_refund_requests(live.hub) == [
        (payment_id, 1_000, "succeeded", first.json()["stripe_refund_id"])
    ]
    other_body = live.http.post(
        f"/api/v1/payments/{payment_id}/refund", headers=headers, json={**body, "amount_pence": 999}
    )
    assert other_body.status_code == 409, other_body.text
    assert [e["field"] for e in other_body.json()["errors"]] == ["Idempotency-Key"]


def test_simultaneous_identical_refunds_make_one_refund(stripe_live: LiveHub) -> None:
    live = stripe_live
    invoice_id, payment_id = _paid_at_localstripe(live, live.hub.make_org())
    body = {"amount_pence": 1_500, "reason": "Double click", "invoice_id": invoice_id}
    headers = {**live.staff, "Idempotency-Key": "same-click"}

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(live.http.base_url), timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(f"/api/v1/payments/{payment_id}/refund", headers=headers, json=body)
                    for _ in range(4)
                )
            )

    responses = asyncio.run(fire())

    assert [r.status_code for r in responses] == [201] * 4, [r.text[:300] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    invoice = live.http.get(f"/api/v1/invoices/{invoice_id}", headers=live.staff).json()
    assert (invoice["paid_pence"], invoice["status"]) == (4_500, "part_paid")
    assert [r[2] for r in stripe_refund_requests(live.hub)] == ["succeeded"]


def _paid_at_localstripe(live: LiveHub, org: int) -> tuple[int, int]:
    invoice = issue_invoice(live.http, live.staff, org)
    pay = live.http.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=live.staff)
    assert pay.status_code == 200, pay.text
    assert live.stripe.customer_pays(pay.json()["payment_intent_id"]).status == "succeeded"

    def paid() -> int | None:
        found = live.http.get(f"/api/v1/payments?invoice_id={invoice['id']}", headers=live.staff).json()
        return found["items"][0]["id"] if found["total"] else None

    return invoice["id"], wait_for("the card payment to be recorded", paid)


def test_a_refund_left_pending_by_a_timeout_is_settled_once_by_the_reconciler(
    settings: Any, localstripe: LocalStripe, black_hole: BlackHole
) -> None:
    """Stripe did not answer; later the reconciler asks again with the same key: one refund,
    recorded once, and a retry of the original request answers that refund."""
    down = replace(stripe_settings(settings, api_base=black_hole.url), stripe_timeout_seconds=TIMEOUT)
    up = stripe_settings(settings, api_base=localstripe.url)
    with hub_for(up) as hub:
        staff = hub.headers_for(Role.RECEPTIONIST)
        admin = hub.headers_for(Role.ADMIN)
        org = hub.make_org()
        invoice = issue_invoice(hub.client, staff, org)
        pay = hub.client.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=staff)
        assert pay.status_code == 200, pay.text
        intent_id = pay.json()["payment_intent_id"]
        assert localstripe.customer_pays(intent_id).status == "succeeded"
        # localstripe's webhook is not registered here: Stripe's event, delivered by hand.
        deliver(
            hub.client,
            intent_event(
                "evt_paid",
                "payment_intent.succeeded",
                intent_id=intent_id,
                amount=6_000,
                invoice_id=invoice["id"],
            ),
        )
        payment_id = hub.client.get(f"/api/v1/payments?invoice_id={invoice['id']}", headers=staff).json()[
            "items"
        ][0]["id"]
    body = {"amount_pence": 2_000, "reason": "Heating failed", "invoice_id": invoice["id"]}
    headers = {**staff, "Idempotency-Key": "heating-refund"}
    with hub_for(down) as hub:
        lost = hub.client.post(f"/api/v1/payments/{payment_id}/refund", headers=headers, json=body)
        assert lost.status_code == 502, lost.text
        assert stripe_refund_requests(hub) == [(payment_id, 2_000, "pending", None)]
        # The ledger check names it once it has waited too long.
        hub.run(an_hour_older)
        check = hub.client.get("/api/v1/ledger/check", headers=admin).json()
        assert check["ok"] is False
        assert check["problems"] == [
            f"refund request 1 of 2000p from payment {payment_id} is still pending with Stripe "
            "(run `hubkeeper stripe reconcile`)"
        ]
    with hub_for(up) as hub:
        report = hub.run(lambda db: reconcile.reconcile(db, up))
        assert report.settled == ["refund request 1: succeeded"], report
        assert report.still_pending == []
        again = hub.run(lambda db: reconcile.reconcile(db, up))
        assert (again.settled, again.still_pending) == ([], [])
        retry = hub.client.post(f"/api/v1/payments/{payment_id}/refund", headers=headers, json=body)
        assert retry.status_code == 201, retry.text
        assert retry.json()["amount_pence"] == -2_000
        refunds_at_stripe = localstripe.client().v1.refunds.list({"payment_intent": intent_id}).data
        assert [(r.amount, r.id) for r in refunds_at_stripe] == [(2_000, retry.json()["stripe_refund_id"])]
        check = hub.client.get("/api/v1/ledger/check", headers=admin).json()
        assert check["ok"] is True, check["problems"]
        payments = hub.client.get(f"/api/v1/payments?invoice_id={invoice['id']}", headers=staff).json()
        assert sorted(p["amount_pence"] for p in payments["items"]) == [-2_000, 6_000]


async def an_hour_older(db: Any) -> None:
    await db.execute(update(StripeRefund).values(created_at=utcnow() - timedelta(hours=1)))
    await db.commit()


def _refund_event(event_id: str, event_type: str, **refund: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"object": "refund", "currency": "gbp", **refund}},
    }


def test_a_refund_webhook_settles_a_pending_request(settings: Any, black_hole: BlackHole) -> None:
    configured = replace(stripe_settings(settings, api_base=black_hole.url), stripe_timeout_seconds=TIMEOUT)
    with hub_for(configured) as hub:
        staff = hub.headers_for(Role.RECEPTIONIST)
        invoice_id, payment_id = paid_by_webhook(hub, staff, hub.make_org(), "pi_pending")
        lost = hub.client.post(
            f"/api/v1/payments/{payment_id}/refund",
            headers=staff,
            json={"amount_pence": 1_200, "reason": "Cancelled", "invoice_id": invoice_id},
        )
        assert lost.status_code == 502, lost.text
        event = _refund_event(
            "evt_refund_1",
            "refund.updated",
            id="re_late",
            amount=1_200,
            payment_intent="pi_pending",
            status="succeeded",
            metadata={"hub_refund_id": "1", "payment_id": str(payment_id)},
        )

        first = deliver(hub.client, event)
        second = deliver(hub.client, {**event, "id": "evt_refund_2"})

        assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
        assert stripe_refund_requests(hub) == [(payment_id, 1_200, "succeeded", "re_late")]
        invoice = hub.client.get(f"/api/v1/invoices/{invoice_id}", headers=staff).json()
        assert (invoice["status"], invoice["paid_pence"]) == ("part_paid", 4_800)
        check = hub.client.get("/api/v1/ledger/check", headers=hub.headers_for(Role.ADMIN)).json()
        assert check["ok"] is True, check["problems"]


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(settings: Any) -> None:
    with hub_for(stripe_settings(settings)) as hub:
        staff = hub.headers_for(Role.RECEPTIONIST)
        invoice_id, payment_id = paid_by_webhook(hub, staff, hub.make_org(), "pi_dash")
        charge_refunded = {
            "id": "evt_charge_refunded",
            "object": "event",
            "type": "charge.refunded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "object": "charge",
                    "id": "ch_dash",
                    "payment_intent": "pi_dash",
                    "amount_refunded": 2_500,
                    "refunds": {
                        "data": [{"id": "re_dash", "amount": 2_500, "status": "succeeded", "metadata": {}}]
                    },
                }
            },
        }
        refund_created = _refund_event(
            "evt_refund_created",
            "refund.created",
            id="re_dash",
            amount=2_500,
            payment_intent="pi_dash",
            status="succeeded",
            metadata={},
        )

        for event in (charge_refunded, refund_created, charge_refunded):
            response = deliver(hub.client, event)
            assert response.status_code == 200, response.text

        payments = hub.client.get(f"/api/v1/payments?invoice_id={invoice_id}", headers=staff).json()["items"]
        assert sorted((p["amount_pence"], p["stripe_refund_id"]) for p in payments) == [
            (-2_500, "re_dash"),
            (6_000, None),
        ]
        assert [p["refund_of_id"] for p in payments if p["amount_pence"] < 0] == [payment_id]
        invoice = hub.client.get(f"/api/v1/invoices/{invoice_id}", headers=staff).json()
        assert (invoice["status"], invoice["paid_pence"]) == ("part_paid", 3_500)
        check = hub.client.get("/api/v1/ledger/check", headers=hub.headers_for(Role.ADMIN)).json()
        assert check["ok"] is True, check["problems"]


# -- Pay now left pending ------------------------------------------------------------------------------


def test_a_pay_now_left_pending_is_settled_by_the_reconciler(
    settings: Any, localstripe: LocalStripe, black_hole: BlackHole
) -> None:
    down = replace(stripe_settings(settings, api_base=black_hole.url), stripe_timeout_seconds=TIMEOUT)
    up = stripe_settings(settings, api_base=localstripe.url)
    with hub_for(down) as hub:
        staff = hub.headers_for(Role.RECEPTIONIST)
        invoice = issue_invoice(hub.client, staff, hub.make_org())
        lost = hub.client.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=staff)
        assert lost.status_code == 502, lost.text
        assert stripe_intents(hub) == [(None, 6_000, "pending", "")]
    with hub_for(up) as hub:
        report = hub.run(lambda db: reconcile.reconcile(db, up))
        at_stripe = localstripe.client().v1.payment_intents.list().data
        assert [i.amount for i in at_stripe] == [6_000]
        assert report.settled == [f"Pay now attempt 1: intent {at_stripe[0].id}"]
        assert stripe_intents(hub) == [(at_stripe[0].id, 6_000, "created", "")]
        # Pay now again offers that same intent.
        again = hub.client.post(f"/api/v1/invoices/{invoice['id']}/pay", headers=staff)
        assert again.status_code == 200, again.text
        assert again.json()["payment_intent_id"] == at_stripe[0].id
        assert len(localstripe.client().v1.payment_intents.list().data) == 1
