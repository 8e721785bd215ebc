"""Alerts: what is due on agreements within the alert window, and tenants in arrears, soonest
first — from the API and from `hubkeeper tenants alerts`."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from hub.billing.schemas import ChargeCreate, InvoiceCreate
from hub.billing.services import charges, invoices
from hub.models import Role
from tenants.schemas import BreakIn, ReviewIn
from tenants.services import agreements
from tests.conftest import Hub
from tests.tenants.conftest import SYSTEM, hub_settings, make_agreement, make_unit

TODAY = date(2026, 12, 1)  # the 90-day window runs to 1 March 2027


def _overdue_invoice(hub: Hub, organisation_id: int, pence: int) -> None:
    settings = hub_settings(hub)

    async def work(db):  # type: ignore[no-untyped-def]
        await charges.create_manual(
            db,
            SYSTEM,
            ChargeCreate(
                organisation_id=organisation_id,
                description="Rent, quarter to December",
                net_pence=pence,
                supply_date=date(2026, 9, 29),
            ),
        )
        # Issued on 1 October 2026: due long before 1 December.
        await invoices.create_invoice(
            db, settings, SYSTEM, InvoiceCreate(organisation_id=organisation_id), on=date(2026, 10, 1)
        )

    hub.run(work)


def _building(hub: Hub) -> dict[str, int]:
    settings = hub_settings(hub)
    names = ["Food Bank", "Credit Union", "Carers Network", "Youth Trust", "Fylde CIC"]
    orgs = {name: hub.make_org(name) for name in names}
    units = [make_unit(hub, f"Office {n}") for n in range(1, 6)]
    ids = {
        # Ends inside the window; insurance lapsed already.
        "Food Bank": make_agreement(
            hub,
            orgs["Food Bank"],
            [units[0]],
            date(2024, 3, 1),
            date(2027, 2, 28),
            insurance_expires_on=date(2026, 11, 20),
        ),
        # Rolling, with a break whose notice day falls in the window though the break is beyond it.
        "Credit Union": make_agreement(hub, orgs["Credit Union"], [units[1]], date(2025, 7, 1)),
        # An index review inside the window, a fixed one beyond it, and an end beyond it.
        "Carers Network": make_agreement(
            hub, orgs["Carers Network"], [units[2]], date(2025, 1, 15), date(2028, 1, 14)
        ),
        # In arrears.
        "Youth Trust": make_agreement(
            hub, orgs["Youth Trust"], [units[3]], date(2026, 1, 1), date(2030, 12, 31)
        ),
        # A draft: nothing about it is an alert yet.
        "Fylde CIC": make_agreement(
            hub,
            orgs["Fylde CIC"],
            [units[4]],
            date(2026, 12, 1),
            date(2027, 1, 31),
            activate=False,
            insurance_expires_on=date(2026, 12, 10),
        ),
    }
    hub.run(
        lambda db: agreements.add_break(
            db, settings, SYSTEM, ids["Credit Union"], BreakIn(break_date=date(2027, 6, 30), notice_days=180)
        )
    )
    hub.run(
        lambda db: agreements.add_review(
            db,
            settings,
            SYSTEM,
            ids["Carers Network"],
            ReviewIn(review_date=date(2027, 1, 15), index_name="CPI"),
        )
    )
    hub.run(
        lambda db: agreements.add_review(
            db, settings, SYSTEM, ids["Carers Network"], ReviewIn(review_date=date(2027, 3, 2), uplift_bp=300)
        )
    )
    _overdue_invoice(hub, orgs["Youth Trust"], 45_000)
    _overdue_invoice(hub, orgs["Fylde CIC"], 10_000)  # owes, but holds no agreement in force
    return ids


EXPECTED = [
    ("insurance", "2026-11-20", "Food Bank"),
    ("arrears", "2026-12-01", "Youth Trust"),
    ("break", "2027-01-01", "Credit Union"),  # 30 June 2027 less 180 days' notice
    ("rent_review", "2027-01-15", "Carers Network"),
    ("end", "2027-02-28", "Food Bank"),
]


def test_alerts_api_lists_what_is_due_soonest_first(hub: Hub) -> None:
    ids = _building(hub)
    response = hub.client.get(
        "/api/v1/agreements/alerts", params={"on": TODAY.isoformat()}, headers=hub.headers_for(Role.TRUSTEE)
    )
    assert response.status_code == 200, response.text
    alerts = response.json()
    assert [(a["kind"], a["due_on"], a["organisation_name"]) for a in alerts] == EXPECTED
    by_kind = {a["kind"]: a for a in alerts}
    assert by_kind["break"]["text"] == "Break date 30 Jun 2027: last day to give notice 1 Jan 2027"
    assert by_kind["break"]["agreement_id"] == ids["Credit Union"]
    assert by_kind["rent_review"]["text"] == "Rent review on 15 Jan 2027 (by CPI: apply it by hand)"
    assert by_kind["arrears"]["text"] == "In arrears: £450.00 overdue (£450.00 owed in all)"
    assert by_kind["insurance"]["text"].startswith("Insurance certificate expired on 20 Nov 2026")


def test_cli_prints_the_same_alerts(hub: Hub, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hub.cli import main

    _building(hub)
    monkeypatch.setenv("HUB_DATABASE_URL", hub_settings(hub).database_url)
    for name, value in {
        "HUB_ENV": "test",
        "HUB_SUPPLIER_NAME": "Fleetwood Community Hub",
        "HUB_SUPPLIER_ADDRESS": "The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
        "HUB_CHARITY_NUMBER": "1190001",
        "HUB_PAYMENT_INSTRUCTIONS": "Bank transfer",
        "HUB_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["tenants", "alerts", "--on", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line[:10] for line in lines] == [due for _, due, _ in EXPECTED]
    assert "Credit Union: Break date 30 Jun 2027: last day to give notice 1 Jan 2027" in lines[2]
    bad = CliRunner().invoke(main, ["tenants", "alerts", "--on", "someday"])
    assert bad.exit_code == 2
