"""The tenants demo: a dozen VCSE tenants with the agreements the issue asks for, quickly."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from hub.billing.services import ledger
from hub.demo import seed as core_seed
from hub.models import Organisation
from tenants.models import Agreement, Unit
from tenants.services import agreements, alerts, demo, units
from tests.conftest import Hub, backend
from tests.tenants.conftest import hub_settings


def test_demo_tenants_and_agreements(hub: Hub) -> None:
    settings = hub_settings(hub)
    today = settings.today()
    organisations: dict[str, int] = hub.run(core_seed)

    started = time.perf_counter()
    made = hub.run(lambda db: demo.seed_agreements(db, settings, organisations))
    elapsed = time.perf_counter() - started
    print(f"tenants demo: {elapsed:.3f} s")
    # Under 2 s on SQLite (the demo's own database); PostgreSQL pays a network round trip a
    # statement, and this machine's two cores are shared with other test runs: a looser bound.
    limit = 2.0 if backend() == "sqlite" else 5.0
    assert elapsed < limit, f"the tenants demo took {elapsed:.2f} s"

    async def facts(db: Any) -> dict[str, Any]:
        rows = list(await db.scalars(select(Agreement)))
        names = dict((await db.execute(select(Organisation.id, Organisation.name))).all())
        live = {
            names[a.organisation_id]: a
            for a in rows
            if a.activated_on is not None
            and a.start_date <= today
            and (a.end_date is None or a.end_date >= today)
        }
        return {
            "rows": rows,
            "live": live,
            "units": await units.list_units(db, today),
            "youth": await agreements.live_agreement_for(db, organisations["Coastal Youth Trust"], today),
            "food": await agreements.live_agreement_for(db, organisations["Fleetwood Food Bank"], today),
            "alerts": await alerts.alerts(db, settings, today),
            "unit_count": await db.scalar(select(func.count()).select_from(Unit)),
        }

    found = hub.run(facts)
    live = found["live"]
    assert len(made) == 13
    assert len(live) == 11  # a dozen tenants: eleven in force, one drafted to start next month
    # The demo tenant logins each hold an agreement in force.
    assert found["youth"] is not None and found["food"] is not None
    assert {a.frequency for a in live.values()} == {"monthly", "quarterly"}
    in_rent_free = [
        n for n, a in live.items() if a.rent_free_start and a.rent_free_start <= today <= a.rent_free_end
    ]
    assert in_rent_free == ["Fylde Coast Minds"]
    assert sorted(n for n, a in live.items() if a.discount_bp) == [
        "Fleetwood Food Bank",
        "Fleetwood Refugee Welcome",
    ]
    ending = [n for n, a in live.items() if a.end_date and a.end_date <= today + timedelta(days=90)]
    assert ending == ["Wyre Carers Network"]
    assert sum(1 for a in live.values() if a.deposit_received_on is not None) == 6
    kinds = {alert.kind for alert in found["alerts"]}
    assert {"break", "end", "insurance", "rent_review"} <= kinds
    break_alert = next(a for a in found["alerts"] if a.kind == "break")
    assert break_alert.organisation_name == "Fleetwood Community Credit Union"
    statuses = {u.name: u.status for u in found["units"]}
    assert statuses["Office 3"] == "unavailable"
    assert statuses["Office 4"] == "let" and statuses["Desk 3"] == "available"
    assert {u.floor for u in found["units"]} == {"Ground", "First", "Second"}
    assert {u.kind for u in found["units"]} == {"office", "desk", "storage"}
    # Deposits are held, not income: the ledger check (the modules' own checks included) passes.
    check = hub.run(lambda db: ledger.check(db, registry=hub.client.app.state.registry))
    assert check.ok, check
