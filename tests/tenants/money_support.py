"""Helpers for the tenants money tests (billing, deposits, allowance): agreements written straight
to the tables (the money rules under test read them; the agreement rules have their own tests),
and the billing run as the app runs it (with the app's registry)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import Charge, ChargeStatus
from hub.billing.schemas import BillingRunResult, LedgerCheck
from hub.billing.services import invoices, ledger
from hub.config import Settings
from hub.modules import Registry
from tenants.models import Agreement, AgreementStatus, RentReview
from tests.conftest import Hub

SYSTEM = Identity.system("test")
_numbers = itertools.count(1)


def app_settings(hub: Hub) -> Settings:
    settings: Settings = hub.client.app.state.settings
    return settings


def app_registry(hub: Hub) -> Registry:
    registry: Registry = hub.client.app.state.registry
    return registry


def add_agreement(
    hub: Hub,
    organisation_id: int,
    start: date,
    end: date | None = None,
    *,
    frequency: str = "quarterly",
    rent_pence_per_year: int = 1_200_000,
    status: str = AgreementStatus.ACTIVE.value,
    reviews: tuple[tuple[date, int | None], ...] = (),
    **fields: Any,
) -> int:
    async def work(db: AsyncSession) -> int:
        agreement = Agreement(
            reference=f"AGR-T2-{next(_numbers):04d}",
            organisation_id=organisation_id,
            kind="licence",
            status=status,
            start_date=start,
            end_date=end,
            notice_months=None if end else 1,
            rent_pence_per_year=rent_pence_per_year,
            service_charge_pence_per_year=fields.pop("service_charge_pence_per_year", 0),
            frequency=frequency,
            discount_bp=fields.pop("discount_bp", 0),
            deposit_pence=fields.pop("deposit_pence", 0),
            deposit_kept_pence=0,
            permitted_use="Offices",
            included_minutes_per_month=fields.pop("included_minutes_per_month", 0),
            **fields,
        )
        db.add(agreement)
        await db.flush()
        for review_date, new_rent in reviews:
            db.add(
                RentReview(
                    agreement_id=agreement.id, review_date=review_date, new_rent_pence_per_year=new_rent
                )
            )
        await db.commit()
        return agreement.id

    return hub.run(work)


def billing_run(hub: Hub, month: str, settings: Settings | None = None) -> BillingRunResult:
    used = settings or app_settings(hub)
    registry = app_registry(hub)
    return hub.run(lambda db: invoices.billing_run(db, used, SYSTEM, month, registry=registry))


def agreement_charges(hub: Hub, agreement_id: int) -> list[Charge]:
    async def work(db: AsyncSession) -> list[Charge]:
        return list(
            await db.scalars(
                select(Charge)
                .where(
                    Charge.source_type == "agreement",
                    Charge.source_id == str(agreement_id),
                    Charge.status != ChargeStatus.CANCELLED.value,
                )
                .order_by(Charge.supply_date, Charge.id)
            )
        )

    return hub.run(work)


def ledger_check(hub: Hub) -> LedgerCheck:
    """The core's ledger check with the tenants module's own proofs (LEDGER_CHECKS) beside it —
    the other modules' checks are theirs to test."""
    tenants_only = Registry([m for m in app_registry(hub).modules if m.name in ("hub", "tenants")])
    return hub.run(lambda db: ledger.check(db, registry=tenants_only))
