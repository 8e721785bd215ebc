"""Units through the API: the admin adds and changes them; status comes from live agreements."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.models import AuditEntry, Role
from tenants.models import Unit
from tests.conftest import Hub
from tests.tenants.conftest import SYSTEM, hub_settings, make_agreement, make_unit


def _counts(hub: Hub) -> tuple[int, int]:
    async def work(db: Any) -> tuple[int, int]:
        return (
            await db.scalar(select(func.count()).select_from(Unit)),
            await db.scalar(select(func.count()).select_from(AuditEntry)),
        )

    return hub.run(work)


def _audit(hub: Hub, action: str) -> list[AuditEntry]:
    return list(hub.run(lambda db: db.scalars(select(AuditEntry).where(AuditEntry.action == action))))


def test_admin_adds_a_unit_and_it_is_available_and_audited(hub: Hub) -> None:
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.post(
        "/api/v1/units",
        json={
            "name": "Office 3",
            "kind": "office",
            "floor": "First",
            "area_m2": "21.75",
            "features": ["Window"],
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    unit = response.json()
    assert (unit["name"], unit["kind"], unit["floor"], unit["area_m2"]) == (
        "Office 3",
        "office",
        "First",
        "21.75",
    )
    assert unit["status"] == "available"
    assert unit["features"] == ["Window"]
    [entry] = _audit(hub, "unit.created")
    assert entry.object_id == str(unit["id"])
    assert entry.changes["area_m2"] == [None, "21.75"]
    # A number in JSON is accepted as well as a string.
    desk = hub.client.post(
        "/api/v1/units", json={"name": "Desk 1", "kind": "desk", "area_m2": 4}, headers=admin
    ).json()
    assert desk["area_m2"] == "4.00"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"name": "Office 9", "kind": "office", "area_m2": "-3"}, "area_m2", 422),
        ({"name": "Office 9", "kind": "office", "area_m2": "0"}, "area_m2", 422),
        ({"name": "Office 9", "kind": "office", "area_m2": "12.345"}, "area_m2", 422),
        ({"name": "Office 9", "kind": "office", "area_m2": "NaN"}, "area_m2", 422),
        ({"name": "Office 9", "kind": "castle", "area_m2": "12"}, "kind", 400),
        ({"name": "   ", "kind": "office", "area_m2": "12"}, "name", 422),
        ({"name": "Office 1", "kind": "office", "area_m2": "12"}, "name", 409),
    ],
    ids=[
        "negative area",
        "zero area",
        "three decimals",
        "not a number",
        "unknown kind",
        "blank",
        "duplicate",
    ],
)
def test_bad_unit_is_refused_naming_the_field_and_nothing_is_written(
    hub: Hub, body: dict[str, Any], field: str, status: int
) -> None:
    make_unit(hub, "Office 1")
    admin = hub.headers_for(Role.ADMIN)
    before = _counts(hub)
    response = hub.client.post("/api/v1/units", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _counts(hub) == before


def test_status_is_let_while_a_live_agreement_holds_it_and_unavailable_when_out_of_use(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org("Fleetwood Food Bank")
    let = make_unit(hub, "Office 1")
    drafted = make_unit(hub, "Office 2")
    spare = make_unit(hub, "Store 1", out_of_use=True)
    make_agreement(hub, org, [let], date(2026, 4, 1), date(2027, 3, 31))
    make_agreement(hub, org, [drafted], date(2026, 4, 1), date(2027, 3, 31), activate=False)

    def statuses(on: str) -> dict[str, tuple[str, str | None]]:
        rows = hub.client.get("/api/v1/units", params={"on": on}, headers=staff).json()
        return {row["name"]: (row["status"], row["organisation_name"]) for row in rows}

    assert statuses("2026-03-31") == {
        "Office 1": ("available", None),
        "Office 2": ("available", None),
        "Store 1": ("unavailable", None),
    }
    # The first and the last day of the agreement are both let; a draft holds nothing.
    for day in ("2026-04-01", "2027-03-31"):
        assert statuses(day)["Office 1"] == ("let", "Fleetwood Food Bank")
        assert statuses(day)["Office 2"] == ("available", None)
    assert statuses("2027-04-01")["Office 1"] == ("available", None)
    one = hub.client.get(f"/api/v1/units/{spare}", headers=staff).json()
    assert one["status"] == "unavailable"


def test_an_ended_agreement_frees_its_unit_after_the_day_it_ended(hub: Hub) -> None:
    from tenants.services import agreements

    org = hub.make_org("Wyre Credit Union")
    unit = make_unit(hub, "Office 1")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    settings = hub_settings(hub)
    hub.run(
        lambda db: agreements.end_agreement(db, settings, SYSTEM, agreement_id, date(2026, 9, 30), "Moved")
    )
    staff = hub.headers_for(Role.TRUSTEE)
    rows = hub.client.get("/api/v1/units", params={"on": "2026-09-30"}, headers=staff).json()
    assert rows[0]["status"] == "let"  # it held the unit up to the day it ended
    rows = hub.client.get("/api/v1/units", params={"on": "2026-10-01"}, headers=staff).json()
    assert rows[0]["status"] == "available"


def test_admin_changes_a_unit_and_the_change_is_audited(hub: Hub) -> None:
    unit = make_unit(hub, "Office 1", area_m2="18.00")
    response = hub.client.patch(
        f"/api/v1/units/{unit}",
        json={"area_m2": "19.50", "out_of_use": True},
        headers=hub.headers_for(Role.ADMIN),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["area_m2"], response.json()["status"]) == ("19.50", "unavailable")
    [entry] = _audit(hub, "unit.updated")
    assert entry.changes == {"area_m2": ["18.00", "19.50"], "out_of_use": [False, True]}
    refused = hub.client.patch(
        f"/api/v1/units/{unit}", json={"area_m2": "-1"}, headers=hub.headers_for(Role.ADMIN)
    )
    assert refused.status_code == 422
    assert hub.run(lambda db: db.get(Unit, unit)).area_m2 == pytest.approx(19.5)


def test_unknown_unit_is_404(hub: Hub) -> None:
    staff = hub.headers_for(Role.ADMIN)
    assert hub.client.get("/api/v1/units/424242", headers=staff).status_code == 404
    assert hub.client.get("/api/v1/units/99999999999999999999", headers=staff).status_code == 404
