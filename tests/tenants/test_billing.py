"""Rent and service charges in the monthly billing run: pro rata, rent-free, reviews, VAT, and each
period charged once — repeated runs, concurrent runs, and the database's unique key behind them.

Figures are worked from the rule (annual ÷ periods a year × days covered ÷ actual days in the
period, rounded once half-up), as in test_schedule.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.models import Charge, Invoice
from hub.billing.services import invoices
from tenants.models import TenantChargePeriod
from tenants.services import billing
from tests.conftest import Hub
from tests.tenants.money_support import (
    SYSTEM,
    add_agreement,
    agreement_charges,
    app_registry,
    app_settings,
    billing_run,
    ledger_check,
)


def summary(hub: Hub, agreement_id: int) -> list[tuple[str, date, int, int]]:
    return [(c.stream, c.supply_date, c.net_pence, c.vat_pence) for c in agreement_charges(hub, agreement_id)]


def periods(hub: Hub, agreement_id: int) -> list[tuple[str, date, int]]:
    async def work(db: AsyncSession) -> list[tuple[str, date, int]]:
        rows = await db.execute(
            select(TenantChargePeriod.kind, TenantChargePeriod.period_start, TenantChargePeriod.amount_pence)
            .where(TenantChargePeriod.agreement_id == agreement_id)
            .order_by(TenantChargePeriod.period_start, TenantChargePeriod.kind)
        )
        return [(k, p, a) for k, p, a in rows.all()]

    return hub.run(work)


def test_a_start_mid_quarter_is_charged_pro_rata_in_its_month_and_invoiced(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    agreement = add_agreement(
        hub, org, date(2027, 2, 10), frequency="quarterly", rent_pence_per_year=1_200_000
    )
    assert billing_run(hub, "2027-01").posted == []
    result = billing_run(hub, "2027-02")
    # 25 Dec – 24 Mar is 90 days; 10 Feb – 24 Mar is 43: 300,000 × 43 / 90 = 143,333.33.
    assert summary(hub, agreement) == [("rent", date(2027, 2, 10), 143_333, 0)]
    (charge,) = agreement_charges(hub, agreement)
    assert charge.status == "invoiced"
    assert "43 of 90 days" in charge.description
    assert [i.gross_pence for i in result.invoices] == [143_333]
    assert any("143,333" in line or "£1,433.33" in line for line in result.posted)
    billing_run(hub, "2027-03")
    assert summary(hub, agreement)[-1] == ("rent", date(2027, 3, 25), 300_000, 0)
    assert ledger_check(hub).ok


def test_a_rent_free_period_ending_mid_month_charges_the_rest_and_the_service_charge(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub,
        org,
        date(2027, 1, 1),
        frequency="monthly",
        rent_pence_per_year=600_000,
        service_charge_pence_per_year=120_000,
        rent_free_start=date(2027, 1, 1),
        rent_free_end=date(2027, 2, 14),
    )
    billing_run(hub, "2027-01")
    billing_run(hub, "2027-02")
    # January wholly rent-free (recorded, nothing charged); February 14 of 28 days.
    assert summary(hub, agreement) == [
        ("service_charge", date(2027, 1, 1), 10_000, 0),
        ("rent", date(2027, 2, 1), 25_000, 0),
        ("service_charge", date(2027, 2, 1), 10_000, 0),
    ]
    assert periods(hub, agreement) == [
        ("rent", date(2027, 1, 1), 0),
        ("service_charge", date(2027, 1, 1), 10_000),
        ("rent", date(2027, 2, 1), 25_000),
        ("service_charge", date(2027, 2, 1), 10_000),
    ]
    assert ledger_check(hub).ok


def test_an_end_mid_month_is_charged_pro_rata_and_nothing_after(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 6, 1), date(2027, 3, 10), frequency="monthly")
    billing_run(hub, "2027-03")
    billing_run(hub, "2027-04")
    # 1,200,000 / 12 × 10 / 31 = 32,258.06
    assert summary(hub, agreement) == [("rent", date(2027, 3, 1), 32_258, 0)]


def test_an_agreement_ended_early_is_charged_to_the_day_it_ended(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub,
        org,
        date(2026, 6, 1),
        date(2028, 5, 31),
        frequency="monthly",
        status="ended",
        activated_on=date(2026, 5, 20),
        ended_on=date(2027, 1, 20),
        end_reason="Moved out",
    )
    billing_run(hub, "2027-01")
    billing_run(hub, "2027-02")
    # 100,000 × 20 / 31 = 64,516.13
    assert summary(hub, agreement) == [("rent", date(2027, 1, 1), 64_516, 0)]


def test_a_draft_agreement_is_not_charged(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2027, 1, 1), frequency="monthly", status="draft")
    billing_run(hub, "2027-01")
    assert summary(hub, agreement) == []


def test_a_draft_ended_before_it_was_activated_is_not_charged(hub: Hub) -> None:
    org = hub.make_org()
    never = add_agreement(
        hub, org, date(2027, 1, 1), frequency="monthly", status="ended", ended_on=date(2027, 1, 5)
    )
    billing_run(hub, "2027-01")
    assert summary(hub, never) == []


def test_a_rent_review_takes_effect_mid_period(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub,
        org,
        date(2026, 12, 25),
        frequency="quarterly",
        rent_pence_per_year=1_200_000,
        reviews=((date(2027, 2, 1), 1_320_000),),
    )
    billing_run(hub, "2026-12")
    billing_run(hub, "2027-03")
    # (1,200,000 × 38 + 1,320,000 × 52) / (4 × 90) = 317,333.33; then a quarter of 1,320,000.
    assert summary(hub, agreement) == [
        ("rent", date(2026, 12, 25), 317_333, 0),
        ("rent", date(2027, 3, 25), 330_000, 0),
    ]
    assert "(rent review)" in agreement_charges(hub, agreement)[0].description


def test_a_discount_is_on_the_invoice_line_with_its_reason(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub,
        org,
        date(2027, 1, 1),
        frequency="monthly",
        rent_pence_per_year=600_000,
        discount_bp=2_000,
        discount_reason="Registered charity",
    )
    billing_run(hub, "2027-01")
    (charge,) = agreement_charges(hub, agreement)
    assert charge.net_pence == 40_000

    async def line(db: AsyncSession) -> str:
        invoice = await db.scalar(select(Invoice).where(Invoice.organisation_id == org))
        assert invoice is not None
        return invoice.lines[0].description

    assert "less 20% discount: Registered charity" in hub.run(line)


def test_opted_to_tax_charges_standard_rate_vat(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2027, 1, 1), frequency="monthly", rent_pence_per_year=600_000)
    billing_run(hub, "2027-01", settings=replace(app_settings(hub), opted_to_tax=True))
    assert summary(hub, agreement) == [("rent", date(2027, 1, 1), 50_000, 10_000)]
    assert ledger_check(hub).ok


def test_a_repeated_run_charges_each_period_once(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub, org, date(2026, 12, 25), service_charge_pence_per_year=400_000, frequency="quarterly"
    )
    first = billing_run(hub, "2026-12")
    second = billing_run(hub, "2026-12")
    assert summary(hub, agreement) == [
        ("rent", date(2026, 12, 25), 300_000, 0),
        ("service_charge", date(2026, 12, 25), 100_000, 0),
    ]
    assert len(first.invoices) == 1 and second.invoices == []
    assert "2 period charge(s) posted, 0 already charged" in first.posted[-1]
    assert "0 period charge(s) posted, 2 already charged" in second.posted[-1]
    assert ledger_check(hub).ok


def test_two_runs_at_once_charge_each_period_once(hub: Hub) -> None:
    orgs = [hub.make_org() for _ in range(3)]
    agreements = [
        add_agreement(hub, org, date(2026, 12, 25), service_charge_pence_per_year=400_000) for org in orgs
    ]
    settings = app_settings(hub)
    registry = app_registry(hub)
    state = hub.client.app.state

    async def one_run() -> Any:
        async with state.sessionmaker(bind=state.write_engine) as db:
            return await invoices.billing_run(db, settings, SYSTEM, "2026-12", registry=registry)

    async def both() -> list[Any]:
        return list(await asyncio.gather(one_run(), one_run()))

    results = hub.client.blocking_portal.call(both)
    for agreement in agreements:
        assert summary(hub, agreement) == [
            ("rent", date(2026, 12, 25), 300_000, 0),
            ("service_charge", date(2026, 12, 25), 100_000, 0),
        ]
    assert sum(len(r.invoices) for r in results) == 3
    assert ledger_check(hub).ok


def test_the_database_refuses_a_period_charged_twice(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 12, 25))

    async def twice(db: AsyncSession) -> None:
        for _ in range(2):
            db.add(
                TenantChargePeriod(
                    agreement_id=agreement,
                    kind="rent",
                    period_start=date(2026, 12, 25),
                    period_end=date(2027, 3, 24),
                    amount_pence=0,
                )
            )
            await db.flush()

    with pytest.raises(IntegrityError):
        hub.run(twice)


def test_a_run_that_misses_the_shortcut_still_charges_once(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The look-up of periods already charged is only a shortcut: without it, the unique key alone
    keeps the second run from charging again (its inserts fail and are rolled back)."""
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 12, 25), service_charge_pence_per_year=400_000)
    billing_run(hub, "2026-12")

    async def nothing_charged(*_args: Any) -> set[Any]:
        return set()

    monkeypatch.setattr(billing, "_charged", nothing_charged)
    second = billing_run(hub, "2026-12")
    assert "0 period charge(s) posted, 2 already charged" in second.posted[-1]
    assert len(summary(hub, agreement)) == 2

    async def count(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(Charge)) or 0)

    assert hub.run(count) == 2
    assert ledger_check(hub).ok


def test_the_charge_links_back_to_its_agreement(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 12, 25))
    billing_run(hub, "2026-12")
    registry = app_registry(hub)
    (charge,) = agreement_charges(hub, agreement)
    assert registry.source_link(charge.source_type, charge.source_id) == f"/tenancies/agreements/{agreement}"
    assert registry.source_label(charge.source_type) == "Tenancy agreement"


def test_the_billing_run_command_posts_rent(hub: Hub) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    org = hub.make_org("Wyre Credit Union")
    agreement = add_agreement(hub, org, date(2026, 12, 25))
    settings = app_settings(hub)
    env = {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_SECRET_KEY": settings.secret_key,
        "HUB_ENV": "test",
    }
    result = CliRunner().invoke(main, ["billing", "run", "--month", "2026-12"], env=env)
    assert result.exit_code == 0, result.output
    assert "posted: " in result.output and "£3,000.00" in result.output
    assert summary(hub, agreement) == [("rent", date(2026, 12, 25), 300_000, 0)]


def test_the_billing_run_page_posts_rent_and_says_so(hub: Hub) -> None:
    from hub.models import Role

    org = hub.make_org("Fleetwood Carers Network")
    agreement = add_agreement(hub, org, date(2026, 12, 25))
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.post(
        "/invoices/billing-run", data={"_csrf": hub.csrf("/invoices/billing-run"), "month": "2026-12"}
    )
    assert response.status_code in (200, 201), response.text
    assert "Posted before invoicing" in response.text
    assert summary(hub, agreement) == [("rent", date(2026, 12, 25), 300_000, 0)]
