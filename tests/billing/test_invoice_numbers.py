"""Invoice numbers are gap-free and never shared, even when issued at the same moment."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.auth import Identity
from hub.billing.models import Invoice
from hub.billing.schemas import ChargeCreate, InvoiceCreate
from hub.billing.services import charges, invoices, ledger
from hub.models import Role
from tests.conftest import Hub


def _charge_for(hub: Hub, organisation_id: int, net: int = 1_000) -> int:
    data = ChargeCreate(
        organisation_id=organisation_id,
        description="Room hire",
        net_pence=net,
        supply_date=date(2026, 11, 2),
    )
    return hub.run(lambda db: charges.create_manual(db, Identity.system("test"), data)).id


async def _fire(
    url: str, headers: dict[str, str], requests: list[tuple[str, dict[str, Any] | None]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in requests))


def test_ten_simultaneous_invoices_get_ten_consecutive_numbers(hub: Hub, live_url: str) -> None:
    organisations = [hub.make_org(f"Simultaneous Group {n}") for n in range(10)]
    for org in organisations:
        _charge_for(hub, org)
    staff = hub.headers_for(Role.RECEPTIONIST)
    responses = asyncio.run(
        _fire(live_url, staff, [("/api/v1/invoices", {"organisation_id": org}) for org in organisations])
    )
    assert [r.status_code for r in responses] == [201] * 10, [
        r.text for r in responses if r.status_code != 201
    ]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [f"INV-{n:06d}" for n in range(1, 11)]


def test_ten_drafts_issued_at_once_take_distinct_consecutive_numbers(hub: Hub, live_url: str) -> None:
    settings = hub.client.app.state.settings
    org = hub.make_org("Drafting Group")
    drafts = []
    for _ in range(10):
        charge_id = _charge_for(hub, org)
        data = InvoiceCreate(organisation_id=org, charge_ids=[charge_id], issue=False)
        drafts.append(
            hub.run(lambda db, d=data: invoices.create_invoice(db, settings, Identity.system("t"), d)).id
        )
    staff = hub.headers_for(Role.RECEPTIONIST)
    responses = asyncio.run(_fire(live_url, staff, [(f"/api/v1/invoices/{d}/issue", None) for d in drafts]))
    assert [r.status_code for r in responses] == [200] * 10, [
        r.text for r in responses if r.status_code != 200
    ]
    assert sorted(r.json()["number"] for r in responses) == [f"INV-{n:06d}" for n in range(1, 11)]
    # Issuing the same draft twice at once: one wins, the other is told it is no longer a draft.
    charge_id = _charge_for(hub, org)
    data = InvoiceCreate(organisation_id=org, charge_ids=[charge_id], issue=False)
    draft = hub.run(lambda db: invoices.create_invoice(db, settings, Identity.system("t"), data)).id
    twice = asyncio.run(_fire(live_url, staff, [(f"/api/v1/invoices/{draft}/issue", None)] * 2))
    assert sorted(r.status_code for r in twice) == [200, 409]
    assert max(r.json().get("number") or "" for r in twice) == "INV-000011"


def test_a_failed_issue_gives_its_number_back(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = hub.client.app.state.settings
    org = hub.make_org("Unlucky Group")
    _charge_for(hub, org)

    def broken(db: Any, document: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(ledger, "post_document", broken)

    async def attempt(db: Any) -> None:
        try:
            await invoices.create_invoice(
                db, settings, Identity.system("t"), InvoiceCreate(organisation_id=org)
            )
        except RuntimeError:
            await db.rollback()

    hub.run(attempt)
    monkeypatch.undo()
    numbers = hub.run(lambda db: db.scalars(select(Invoice.number_text)))
    assert list(numbers) == []
    invoice = hub.run(
        lambda db: invoices.create_invoice(
            db, settings, Identity.system("t"), InvoiceCreate(organisation_id=org)
        )
    )
    assert invoice.number_text == "INV-000001"
