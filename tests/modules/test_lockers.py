"""A module the core has never heard of plugs in and its money flows end to end: the lockers
module (``tests/modules/lockers.py``) rents a locker, the charge is invoiced by its source, paid,
reconciled in the ledger under the module's own income stream, and linked from the charges page
through the registry. Nothing in ``hub`` names lockers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from hub.app import create_app, default_modules
from hub.config import Settings
from hub.models import Role
from tests.conftest import Hub
from tests.modules.lockers import LOCKERS


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    app = create_app(settings, modules=[*default_modules(), LOCKERS])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


def rent(hub: Hub, headers: dict[str, str], locker_id: int, organisation_id: int, weeks: int) -> Any:
    return hub.client.post(
        f"/api/v1/lockers/{locker_id}/rent",
        json={"organisation_id": organisation_id, "weeks": weeks},
        headers=headers,
    )


def test_a_rented_locker_is_invoiced_by_its_source_paid_and_in_the_ledger_under_locker_hire(hub: Hub) -> None:
    staff = hub.headers_for(Role.RECEPTIONIST)
    org = hub.make_org("Harbour Art Group")

    rented = rent(hub, staff, 7, org, weeks=4)
    assert rented.status_code == 201, rented.text
    assert rented.json() == {"locker_id": 7, "organisation_id": org, "weeks": 4, "net_pence": 2_000}

    # Four weeks at £5.00 a week, standard-rated: one open charge from the locker, into its stream.
    charges = hub.client.get(f"/api/v1/charges?organisation_id={org}&status=open", headers=staff).json()
    assert [
        (c["source_type"], c["source_id"], c["stream"], c["net_pence"], c["vat_pence"], c["gross_pence"])
        for c in charges["items"]
    ] == [("locker", "7", "lockers", 2_000, 400, 2_400)]
    assert charges["items"][0]["description"] == "Locker 7, 4 weeks"

    invoiced = hub.client.post(
        "/api/v1/invoices",
        json={"organisation_id": org, "source_type": "locker", "source_id": "7"},
        headers=staff,
    )
    assert invoiced.status_code == 201, invoiced.text
    invoice = invoiced.json()
    assert (invoice["status"], invoice["net_pence"], invoice["vat_pence"], invoice["gross_pence"]) == (
        "issued",
        2_000,
        400,
        2_400,
    )
    assert [line["description"] for line in invoice["lines"]] == ["Locker 7, 4 weeks"]

    paid = hub.client.post(
        "/api/v1/payments",
        json={
            "organisation_id": org,
            "method": "bacs",
            "amount_pence": 2_400,
            "received_on": invoice["issue_date"],
            "reference": "Art group locker",
            "allocations": [{"invoice_id": invoice["id"], "amount_pence": 2_400}],
        },
        headers=staff,
    )
    assert paid.status_code == 201, paid.text
    assert hub.client.get(f"/api/v1/invoices/{invoice['id']}", headers=staff).json()["status"] == "paid"

    trustee = hub.headers_for(Role.TRUSTEE)
    check = hub.client.get("/api/v1/ledger/check", headers=trustee)
    assert check.status_code == 200, check.text
    assert (check.json()["ok"], check.json()["problems"]) == (True, [])

    # The module's income, as its own stream: £20.00 net income and £4.00 VAT, both credits.
    ledger = hub.client.get("/api/v1/ledger?stream=lockers", headers=trustee)
    assert ledger.status_code == 200, ledger.text
    assert sorted((e["account"], e["amount_pence"], e["invoice_id"]) for e in ledger.json()["items"]) == [
        ("income", -2_000, invoice["id"]),
        ("vat", -400, invoice["id"]),
    ]


def test_the_charges_page_links_a_locker_charge_to_the_locker_through_the_registry(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    assert rent(hub, hub.headers_for(Role.ADMIN), 12, org, weeks=1).status_code == 201
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/charges?organisation_id={org}")
    assert page.status_code == 200
    assert "Locker 12, 1 weeks" in page.text
    assert 'href="/lockers/12"' in page.text
    assert "Locker hire" in page.text


def test_the_module_adds_its_navigation_for_staff_only(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    assert 'href="/lockers"' in hub.client.get("/").text
    hub.login_as(Role.TRUSTEE)
    assert 'href="/lockers"' not in hub.client.get("/").text


def test_only_staff_rent_lockers_and_bad_input_names_the_field(hub: Hub) -> None:
    org = hub.make_org()
    for role in (Role.TRUSTEE, Role.TENANT, Role.CAFE):
        refused = rent(
            hub, hub.headers_for(role, organisation_id=org if role == Role.TENANT else None), 1, org, 1
        )
        assert refused.status_code == 403, role
    staff = hub.headers_for(Role.RECEPTIONIST)
    assert rent(hub, staff, 1, org, weeks=0).json()["errors"][0]["field"] == "weeks"
    unknown = rent(hub, staff, 1, 999_999, weeks=1)
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "organisation_id", "reason": "no organisation has id 999999"}
    ]
    # Nothing was charged by the refused requests.
    assert hub.client.get(f"/api/v1/charges?organisation_id={org}", headers=staff).json()["total"] == 0


def test_without_the_module_the_hub_knows_no_locker_source(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        hub = Hub(client)
        staff = hub.headers_for(Role.RECEPTIONIST)
        org = hub.make_org()
        assert (
            client.post(
                "/api/v1/lockers/1/rent", json={"organisation_id": org, "weeks": 1}, headers=staff
            ).status_code
            == 404
        )
        refused = client.post(
            "/api/v1/invoices",
            json={"organisation_id": org, "source_type": "locker", "source_id": "1"},
            headers=staff,
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["source_type"]
