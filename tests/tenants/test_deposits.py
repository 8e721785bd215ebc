"""Deposits are money held, not income: received into deposits_held, kept into income (rent) only
when kept, returned out of it; refused when it does not follow; the ledger check proves it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.models import LedgerEntry
from hub.models import AuditEntry, Role
from tests.conftest import Hub
from tests.tenants.money_support import add_agreement, ledger_check


def balances(hub: Hub, organisation_id: int) -> dict[str, int]:
    async def work(db: AsyncSession) -> dict[str, int]:
        rows = await db.execute(
            select(LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
            .where(LedgerEntry.organisation_id == organisation_id)
            .group_by(LedgerEntry.account)
        )
        return {account: int(total) for account, total in rows.all()}

    return hub.run(work)


def post(hub: Hub, headers: dict[str, str], agreement: int, **body: Any) -> Any:
    return hub.client.post(f"/api/v1/agreements/{agreement}/deposit", json=body, headers=headers)


def test_a_deposit_received_is_held_never_income_then_kept_in_part_and_the_rest_returned(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=150_000)
    admin = hub.headers_for(Role.ADMIN)

    received = post(hub, admin, agreement, action="received", on="2026-03-20", note="BACS")
    assert received.status_code == 200, received.text
    assert received.json()["held_pence"] == 150_000
    assert balances(hub, org) == {"bank": 150_000, "deposits_held": -150_000}
    assert ledger_check(hub).ok

    kept = post(
        hub, admin, agreement, action="kept", on="2028-04-10", amount_pence=20_000, note="Broken door"
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["held_pence"] == 130_000
    assert balances(hub, org) == {"bank": 150_000, "deposits_held": -130_000, "income": -20_000}

    returned = post(hub, admin, agreement, action="returned", on="2028-04-12")
    assert returned.status_code == 200, returned.text
    assert returned.json()["held_pence"] == 0
    assert balances(hub, org) == {"bank": 20_000, "deposits_held": 0, "income": -20_000}
    check = ledger_check(hub)
    assert check.ok, check.problems


def test_income_is_kept_as_rent(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=50_000)
    admin = hub.headers_for(Role.ADMIN)
    post(hub, admin, agreement, action="received", on="2026-04-01", method="cash")
    post(hub, admin, agreement, action="kept", on="2027-04-01", note="Rent owed at the end")

    async def income(db: AsyncSession) -> list[tuple[str | None, int]]:
        rows = await db.execute(
            select(LedgerEntry.stream, LedgerEntry.amount_pence).where(
                LedgerEntry.organisation_id == org, LedgerEntry.account == "income"
            )
        )
        return [(s, int(a)) for s, a in rows.all()]

    assert hub.run(income) == [("rent", -50_000)]
    assert balances(hub, org) == {"cash": 50_000, "deposits_held": 0, "income": -50_000}


def test_what_does_not_follow_is_refused_naming_the_field_and_writes_nothing(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=100_000)
    admin = hub.headers_for(Role.ADMIN)

    def refused(response: Any, status: int, field: str) -> None:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], response.json()

    refused(post(hub, admin, agreement, action="returned", on="2026-05-01"), 409, "action")
    refused(
        post(hub, admin, agreement, action="received", on="2026-04-01", amount_pence=90_000),
        422,
        "amount_pence",
    )
    refused(post(hub, admin, agreement, action="lost", on="2026-04-01"), 400, "action")
    refused(
        post(hub, admin, agreement, action="received", on="2026-04-01", amount_pence=0), 400, "amount_pence"
    )
    assert balances(hub, org) == {}

    assert post(hub, admin, agreement, action="received", on="2026-04-01").status_code == 200
    refused(post(hub, admin, agreement, action="received", on="2026-04-02"), 409, "action")
    refused(
        post(hub, admin, agreement, action="kept", on="2027-01-01", note="Damage", amount_pence=100_001),
        422,
        "amount_pence",
    )
    refused(post(hub, admin, agreement, action="kept", on="2027-01-01"), 422, "note")
    refused(post(hub, admin, agreement, action="returned", on="2026-03-01"), 422, "on")
    refused(
        post(hub, admin, agreement, action="returned", on="2027-01-01", amount_pence=5), 422, "amount_pence"
    )
    assert post(hub, admin, agreement, action="returned", on="2027-01-01").status_code == 200
    refused(post(hub, admin, agreement, action="returned", on="2027-01-02"), 409, "action")
    refused(post(hub, admin, agreement, action="kept", on="2027-01-02", note="Late"), 409, "action")
    assert balances(hub, org) == {"bank": 0, "deposits_held": 0}
    assert ledger_check(hub).ok


def test_an_agreement_with_no_deposit_named_needs_the_amount(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1))
    admin = hub.headers_for(Role.ADMIN)
    response = post(hub, admin, agreement, action="received", on="2026-04-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount_pence"
    ok = post(hub, admin, agreement, action="received", on="2026-04-01", amount_pence=75_000)
    assert ok.status_code == 200 and ok.json()["deposit_pence"] == 75_000


def test_each_deposit_change_is_audited(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=10_000)
    admin = hub.headers_for(Role.ADMIN)
    post(hub, admin, agreement, action="received", on="2026-04-01")
    post(hub, admin, agreement, action="returned", on="2027-04-01", note="All clear")

    async def actions(db: AsyncSession) -> list[str]:
        return list(
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "agreement", AuditEntry.object_id == str(agreement))
                .order_by(AuditEntry.id)
            )
        )

    assert hub.run(actions) == ["agreement.deposit_received", "agreement.deposit_returned"]


def test_the_ledger_check_finds_a_deposit_that_does_not_agree(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=10_000)
    admin = hub.headers_for(Role.ADMIN)
    post(hub, admin, agreement, action="received", on="2026-04-01")

    async def tamper(db: AsyncSession) -> None:
        from tenants.models import Agreement

        row = await db.get(Agreement, agreement)
        assert row is not None
        row.deposit_pence = 12_000
        await db.commit()

    hub.run(tamper)
    check = ledger_check(hub)
    assert not check.ok
    assert check.problems == [
        f"agreement {agreement}: the ledger holds 10000p of its deposit, its record says 12000p"
    ]


def test_only_the_admin_records_a_deposit_and_another_id_is_404(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), deposit_pence=10_000)
    tenant = hub.headers_for(Role.TENANT, organisation_id=org)
    receptionist = hub.headers_for(Role.RECEPTIONIST)
    assert post(hub, tenant, agreement, action="received", on="2026-04-01").status_code == 403
    assert post(hub, receptionist, agreement, action="received", on="2026-04-01").status_code == 403
    admin = hub.headers_for(Role.ADMIN)
    assert post(hub, admin, 987_654, action="received", on="2026-04-01").status_code == 404
    assert balances(hub, org) == {}
