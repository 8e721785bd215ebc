"""Money writes that are safe to retry, credit-note VAT that never credits more than was charged,
and a ledger check that names each thing planted behind the services' backs.

Every database test here runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from hub.billing.models import Invoice, InvoiceLine, LedgerEntry, PaymentAllocation, StripeRefund
from hub.billing.services.invoices import credit_vat_pence
from hub.db import utcnow
from hub.models import Role
from hub.money import vat_pence
from tests.billing.test_money_api import count, invoice_for, ledger_check, manual_charge, pay
from tests.conftest import Hub, backend
from tests.rooms.conftest import Building

# -- Idempotency-Key ---------------------------------------------------------------------------------


def test_a_retried_payment_with_the_same_key_is_recorded_once(hub: Hub, building: Building) -> None:
    from hub.billing.models import Payment

    manual_charge(hub, building, building.charity, 10_000)
    invoice = invoice_for(hub, building, building.charity)
    key = {"Idempotency-Key": "bacs-2026-12-03-0001"}

    body = {
        "organisation_id": building.charity,
        "method": "bacs",
        "amount_pence": 4_000,
        "received_on": utcnow().date().isoformat(),
        "reference": "BACS 1",
    }
    one = hub.client.post("/api/v1/payments", json=body, headers={**building.staff, **key})
    two = hub.client.post("/api/v1/payments", json=body, headers={**building.staff, **key})

    assert one.status_code == 201, one.text
    assert two.status_code == 201, two.text
    assert two.json() == one.json()
    assert count(hub, Payment) == 1
    now = hub.client.get(f"/api/v1/invoices/{invoice['id']}", headers=building.staff).json()
    assert (now["paid_pence"], now["status"]) == (4_000, "part_paid")
    # Without a key, each request is a new payment (as before).
    assert pay(hub, building, building.charity, 1_000).status_code == 201
    assert count(hub, Payment) == 2
    assert ledger_check(hub)["ok"] is True


def test_the_same_key_with_another_body_is_a_conflict_and_writes_nothing(
    hub: Hub, building: Building
) -> None:
    from hub.billing.models import Payment

    body = {
        "organisation_id": building.charity,
        "method": "cash",
        "amount_pence": 2_000,
        "received_on": utcnow().date().isoformat(),
    }
    key = {"Idempotency-Key": "till-float-1"}
    assert (
        hub.client.post("/api/v1/payments", json=body, headers={**building.staff, **key}).status_code == 201
    )

    other = hub.client.post(
        "/api/v1/payments", json={**body, "amount_pence": 2_001}, headers={**building.staff, **key}
    )

    assert other.status_code == 409, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    problem = other.json()
    assert problem["errors"] == [
        {
            "field": "Idempotency-Key",
            "reason": "this Idempotency-Key was already used for a different request; "
            "use a new key for a new request",
        }
    ]
    assert count(hub, Payment) == 1


def test_keys_belong_to_their_caller(hub: Hub, building: Building) -> None:
    from hub.billing.models import Payment

    body = {
        "organisation_id": building.charity,
        "method": "cheque",
        "amount_pence": 1_500,
        "received_on": utcnow().date().isoformat(),
    }
    other_staff = hub.headers_for(Role.ADMIN)
    key = {"Idempotency-Key": "cheque-100234"}
    assert (
        hub.client.post("/api/v1/payments", json=body, headers={**building.staff, **key}).status_code == 201
    )
    assert hub.client.post("/api/v1/payments", json=body, headers={**other_staff, **key}).status_code == 201
    assert count(hub, Payment) == 2


def test_a_bad_idempotency_key_is_refused_naming_the_header(hub: Hub, building: Building) -> None:
    from hub.billing.models import Payment

    body = {
        "organisation_id": building.charity,
        "method": "cash",
        "amount_pence": 100,
        "received_on": utcnow().date().isoformat(),
    }
    for bad in ("", "x" * 256, "has space", "tab\tinside"):
        response = hub.client.post(
            "/api/v1/payments", json=body, headers={**building.staff, "Idempotency-Key": bad}
        )
        assert response.status_code == 400, (bad, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
    assert count(hub, Payment) == 0


def test_every_money_write_replays_its_first_answer(hub: Hub, building: Building) -> None:
    """Charges, invoices (and issuing a draft), credit notes, allocations and refunds."""
    staff = building.staff

    def twice(path: str, body: dict[str, Any] | None, key: str, status: int = 201) -> dict[str, Any]:
        headers = {**staff, "Idempotency-Key": key}
        one = hub.client.post(path, json=body, headers=headers)
        two = hub.client.post(path, json=body, headers=headers)
        assert one.status_code == status, one.text
        assert (two.status_code, two.json()) == (status, one.json())
        return one.json()  # type: ignore[no-any-return]

    org = building.charity
    charge = twice(
        "/api/v1/charges",
        {
            "organisation_id": org,
            "description": "Lost key",
            "net_pence": 2_500,
            "vat_rate_bp": 2_000,
            "supply_date": "2026-11-20",
        },
        "charge-1",
    )
    assert count(hub, _charges()) == 1
    draft = twice("/api/v1/invoices", {"organisation_id": org, "issue": False}, "invoice-1")
    issued = twice(f"/api/v1/invoices/{draft['id']}/issue", None, "issue-1", status=200)
    assert issued["number"] == "INV-000001"
    assert charge["id"] in [line["charge_id"] for line in issued["lines"]]
    note = twice(
        f"/api/v1/invoices/{issued['id']}/credit-notes",
        {"reason": "Key found", "lines": [{"line_id": issued["lines"][0]["id"], "net_pence": 500}]},
        "credit-1",
    )
    assert note["number"] == "CN-000001"
    payment = twice(
        "/api/v1/payments",
        {
            "organisation_id": org,
            "method": "bacs",
            "amount_pence": 1_000,
            "received_on": utcnow().date().isoformat(),
            "auto_allocate": False,
        },
        "payment-1",
    )
    twice(
        f"/api/v1/payments/{payment['id']}/allocations",
        {"invoice_id": issued["id"], "amount_pence": 600},
        "alloc-1",
    )
    refund = twice(
        f"/api/v1/payments/{payment['id']}/refund", {"amount_pence": 400, "reason": "Overpaid"}, "refund-1"
    )
    assert refund["amount_pence"] == -400
    assert count(hub, Invoice) == 2
    from hub.billing.models import Payment

    assert count(hub, Payment) == 2
    assert ledger_check(hub)["ok"] is True


def _charges() -> Any:
    from hub.billing.models import Charge

    return Charge


def test_simultaneous_payments_with_one_key_are_one_payment(
    live_url: str, hub: Hub, building: Building
) -> None:
    """Ten copies of one request at once, over real HTTP: one payment, ten identical answers."""
    from hub.billing.models import Payment

    body = {
        "organisation_id": building.charity,
        "method": "bacs",
        "amount_pence": 7_700,
        "received_on": utcnow().date().isoformat(),
    }
    headers = {**building.staff, "Idempotency-Key": "burst-1"}

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
            return await asyncio.gather(
                *(client.post("/api/v1/payments", json=body, headers=headers) for _ in range(10))
            )

    responses = asyncio.run(fire())

    assert [r.status_code for r in responses] == [201] * 10, [r.text[:200] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(hub, Payment) == 1


# -- credit-note VAT on the running total -------------------------------------------------------------


def test_partial_credits_never_credit_more_vat_than_the_line_carried(hub: Hub, building: Building) -> None:
    """The finding: a 7p line at 20% carries 1p VAT; 3p + 3p + 1p used to credit 2p of it."""
    manual_charge(hub, building, building.charity, 7, vat_bp=2_000)
    invoice = invoice_for(hub, building, building.charity)
    line = invoice["lines"][0]
    assert (line["net_pence"], line["vat_pence"]) == (7, 1)

    def credit(net: int) -> dict[str, Any]:
        response = hub.client.post(
            f"/api/v1/invoices/{invoice['id']}/credit-notes",
            json={"reason": "Part refund", "lines": [{"line_id": line["id"], "net_pence": net}]},
            headers=building.staff,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    notes = [credit(3), credit(3)]
    assert [(n["net_pence"], n["vat_pence"], n["gross_pence"]) for n in notes] == [(3, 1, 4), (3, 0, 3)]
    half_way = hub.client.get(f"/api/v1/invoices/{invoice['id']}", headers=building.staff).json()
    assert (half_way["credited_pence"], half_way["status"]) == (7, "issued")
    last = credit(1)
    assert (last["net_pence"], last["vat_pence"], last["gross_pence"]) == (1, 0, 1)
    done = hub.client.get(f"/api/v1/invoices/{invoice['id']}", headers=building.staff).json()
    assert (done["credited_pence"], done["status"]) == (8, "credited")
    assert ledger_check(hub)["ok"] is True


class _Line:
    def __init__(self, net: int, rate: int) -> None:
        self.net_pence = net
        self.vat_rate_bp = rate
        self.vat_pence = vat_pence(net, rate)


@settings(max_examples=400, deadline=None)
@given(
    net=st.integers(min_value=1, max_value=5_000_000),
    rate=st.sampled_from([0, 500, 2_000, 1_750, 1_500, 1]),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=0, max_size=8),
)
def test_any_split_of_credits_credits_exactly_the_lines_vat(net: int, rate: int, cuts: list[float]) -> None:
    """However a line is credited — any number of partial notes, in any sizes — the VAT credited so
    far is never more than the line's VAT, and once the line is fully credited it is exactly it."""
    line = _Line(net, rate)
    points = sorted({0, net, *(int(c * net) for c in cuts)})
    credited_net = credited_vat = 0
    for start, end in itertools.pairwise(points):
        part = end - start
        if part <= 0:
            continue
        vat = credit_vat_pence(line, credited_net, credited_vat, part)  # type: ignore[arg-type]
        assert vat >= 0
        credited_net += part
        credited_vat += vat
        assert credited_vat <= line.vat_pence
        # Never more than the VAT of the net credited so far, rounded as the line was.
        assert credited_vat <= vat_pence(credited_net, rate) or credited_net == net
    assert credited_net == net
    assert credited_vat == line.vat_pence


# -- the ledger check names what was planted ------------------------------------------------------------


def plant(hub: Hub, *statements: Any) -> None:
    async def work(db: Any) -> None:
        for statement in statements:
            await db.execute(statement)
        await db.commit()

    hub.run(work)


def problems(hub: Hub) -> list[str]:
    check = ledger_check(hub)
    assert check["ok"] is (not check["problems"])
    return check["problems"]  # type: ignore[no-any-return]


def _paid_invoice(hub: Hub, building: Building) -> dict[str, Any]:
    manual_charge(hub, building, building.charity, 10_000, vat_bp=2_000)
    invoice = invoice_for(hub, building, building.charity)
    assert pay(hub, building, building.charity, 5_000).status_code == 201
    assert problems(hub) == []
    return invoice


def test_the_check_names_an_issued_invoice_marked_void(hub: Hub, building: Building) -> None:
    invoice = _paid_invoice(hub, building)
    plant(hub, update(Invoice).where(Invoice.id == invoice["id"]).values(status="void"))
    assert problems(hub) == [
        "INV-000001: status void but its number and amounts say part_paid",
        # A void invoice's lines no longer hold their charges, so the charge is adrift too.
        "charge 1 says invoice 1 but is on none",
    ]


def test_the_check_names_a_status_edited_behind_the_services_back(hub: Hub, building: Building) -> None:
    invoice = _paid_invoice(hub, building)
    plant(hub, update(Invoice).where(Invoice.id == invoice["id"]).values(status="paid"))
    assert problems(hub) == ["INV-000001: status paid but its number and amounts say part_paid"]


def test_the_check_names_a_voided_draft_with_a_number(hub: Hub, building: Building) -> None:
    manual_charge(hub, building, building.charity, 1_000)
    draft = invoice_for(hub, building, building.charity, issue=False)
    voided = hub.client.post(
        f"/api/v1/invoices/{draft['id']}/void", json={"reason": "Wrong customer"}, headers=building.staff
    )
    assert voided.status_code == 200, voided.text
    assert problems(hub) == []
    plant(hub, update(Invoice).where(Invoice.id == draft["id"]).values(number=99))
    # A number makes it an issued document in every rule: none of it agrees.
    assert problems(hub) == [
        f"draft {draft['id']}: ledger entries differ from the document",
        f"draft {draft['id']}: status void but its number and amounts say issued",
        f"organisation {building.charity}: ledger says it owes 0p, its invoices and payments say 1000p",
    ]


def test_the_check_names_an_allocation_changed(hub: Hub, building: Building) -> None:
    invoice = _paid_invoice(hub, building)
    plant(hub, update(PaymentAllocation).values(amount_pence=4_000))
    assert problems(hub) == ["INV-000001: paid 5000p but its allocations add up to 4000p"]
    assert invoice["number"] == "INV-000001"


def test_the_check_names_a_ledger_entry_removed(hub: Hub, building: Building) -> None:
    invoice = _paid_invoice(hub, building)
    # The database refuses to delete ledger rows: the trigger is taken away to plant the fault.
    if backend() == "postgresql":
        remove = [text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")]
    else:
        remove = [text("DROP TRIGGER ledger_entries_no_delete")]

    async def entry_id(db: Any) -> int:
        return int(
            await db.scalar(
                select(LedgerEntry.id).where(
                    LedgerEntry.invoice_id == invoice["id"], LedgerEntry.account == "vat"
                )
            )
        )

    vat_entry = hub.run(entry_id)
    plant(hub, *remove, LedgerEntry.__table__.delete().where(LedgerEntry.id == vat_entry))
    assert problems(hub) == [
        f"journal invoice:{invoice['id']} does not balance: it sums to 2000p",
        "INV-000001: ledger entries differ from the document",
    ]


def test_the_check_names_a_credit_of_more_vat_than_charged(hub: Hub, building: Building) -> None:
    manual_charge(hub, building, building.charity, 7, vat_bp=2_000)
    invoice = invoice_for(hub, building, building.charity)
    note = hub.client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "Part", "lines": [{"line_id": invoice["lines"][0]["id"], "net_pence": 3}]},
        headers=building.staff,
    ).json()
    assert problems(hub) == []

    # A second note as the old rule wrote it: 3p net with its own rounded 1p of VAT.
    async def old_rule_note(db: Any) -> None:
        line = await db.scalar(select(InvoiceLine).where(InvoiceLine.invoice_id == note["id"]))
        await db.execute(
            update(InvoiceLine).where(InvoiceLine.id == line.id).values(vat_pence=2, gross_pence=5)
        )
        await db.execute(update(Invoice).where(Invoice.id == note["id"]).values(vat_pence=2, gross_pence=5))
        await db.commit()

    hub.run(old_rule_note)
    found = problems(hub)
    assert f"invoice line {invoice['lines'][0]['id']}: 2p VAT credited of 1p charged" in found


def test_the_check_names_a_refund_left_pending(hub: Hub, building: Building) -> None:
    from datetime import timedelta

    _paid_invoice(hub, building)

    async def leave_pending(db: Any) -> None:
        from hub.billing.models import Payment

        payment_id = await db.scalar(select(Payment.id))
        db.add(
            StripeRefund(
                payment_id=payment_id,
                amount_pence=700,
                reason="Crashed between asking and recording",
                idempotency_key="hub-refund-planted",
                status="pending",
                last_error="",
                requested_by_label="test",
                created_at=utcnow() - timedelta(hours=2),
                updated_at=utcnow() - timedelta(hours=2),
            )
        )
        await db.commit()

    hub.run(leave_pending)
    assert problems(hub) == [
        "refund request 1 of 700p from payment 1 is still pending with Stripe "
        "(run `hubkeeper stripe reconcile`)"
    ]
