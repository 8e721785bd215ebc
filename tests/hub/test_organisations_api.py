"""Organisations through the API: search, paging, create, edit, archive; tenants see only their own."""

from __future__ import annotations

from hub.models import OrganisationKind, Role
from tests.conftest import Hub

API = "/api/v1/organisations"

FOOD_BANK = {
    "name": "Fleetwood Food Bank",
    "kind": "vcse",
    "charity_number": "1170123",
    "address_line1": "Pharos Street",
    "town": "Fleetwood",
    "postcode": "fy76hp",
    "billing_email": "Treasurer@FoodBank.org",
    "contacts": [
        {"name": "Priya Nair", "email": "priya@foodbank.org", "phone": "07700 900123", "role": "Coordinator"}
    ],
}


def test_receptionist_creates_organisation_with_normalised_fields(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(API, json=FOOD_BANK, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Fleetwood Food Bank"
    assert body["postcode"] == "FY7 6HP"
    assert body["billing_email"] == "treasurer@foodbank.org"
    assert body["default_rate_band"] == "community"
    assert body["active"] is True
    assert [c["name"] for c in body["contacts"]] == ["Priya Nair"]
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


def test_rate_band_defaults_from_kind(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    expected = {
        "nhs": "statutory",
        "statutory": "statutory",
        "vcse": "community",
        "community_group": "community",
        "commercial": "commercial",
        "individual": "commercial",
    }
    for kind, band in expected.items():
        response = hub.client.post(API, json={"name": f"Org {kind}", "kind": kind}, headers=headers)
        assert response.status_code == 201
        assert response.json()["default_rate_band"] == band


def test_duplicate_name_ignoring_case_and_spaces_is_a_conflict(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    assert hub.client.post(API, json=FOOD_BANK, headers=headers).status_code == 201
    response = hub.client.post(
        API, json={"name": "  fleetwood   FOOD bank ", "kind": "vcse"}, headers=headers
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["errors"] == [{"field": "name", "reason": "an organisation with this name already exists"}]


def test_search_by_name_number_town_postcode_and_contact(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    hub.client.post(API, json=FOOD_BANK, headers=headers)
    hub.client.post(
        API,
        json={"name": "Harbour Art Group", "kind": "community_group", "town": "Thornton"},
        headers=headers,
    )
    for term, expected in [
        ("food", ["Fleetwood Food Bank"]),
        ("1170123", ["Fleetwood Food Bank"]),
        ("thornton", ["Harbour Art Group"]),
        ("FY7 6HP", ["Fleetwood Food Bank"]),
        ("fy76hp", ["Fleetwood Food Bank"]),
        ("priya", ["Fleetwood Food Bank"]),
        ("zzz", []),
    ]:
        response = hub.client.get(API, params={"q": term}, headers=headers)
        assert response.status_code == 200
        assert [o["name"] for o in response.json()["items"]] == expected, term


def test_paging_and_kind_filter(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    for i in range(7):
        hub.make_org(f"Group {i:02d}", kind=OrganisationKind.COMMUNITY_GROUP)
    hub.make_org("An NHS Trust", kind=OrganisationKind.NHS)
    page2 = hub.client.get(
        API, params={"kind": "community_group", "per_page": 3, "page": 2}, headers=headers
    ).json()
    assert page2["total"] == 7
    assert [o["name"] for o in page2["items"]] == ["Group 03", "Group 04", "Group 05"]
    nhs = hub.client.get(API, params={"kind": "nhs"}, headers=headers).json()
    assert [o["name"] for o in nhs["items"]] == ["An NHS Trust"]


def test_update_changes_only_given_fields_and_records_audit(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    org = hub.client.post(API, json=FOOD_BANK, headers=headers).json()
    response = hub.client.patch(
        f"{API}/{org['id']}", json={"town": "Thornton-Cleveleys", "charity_number": None}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["town"] == "Thornton-Cleveleys"
    assert body["charity_number"] is None
    assert body["name"] == "Fleetwood Food Bank"
    admin = hub.headers_for(Role.ADMIN)
    entries = hub.client.get(
        "/api/v1/audit", params={"object_type": "organisation", "object_id": org["id"]}, headers=admin
    ).json()["items"]
    assert [e["action"] for e in entries] == ["organisation.updated", "organisation.created"]
    assert entries[0]["changes"] == {
        "charity_number": ["1170123", None],
        "town": ["Fleetwood", "Thornton-Cleveleys"],
    }
    assert entries[0]["actor"].startswith("receptionist")


def test_archive_and_restore_need_a_reason_and_never_delete(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    org = hub.client.post(API, json=FOOD_BANK, headers=headers).json()
    missing = hub.client.post(f"{API}/{org['id']}/archive", json={"reason": ""}, headers=headers)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "reason"
    archived = hub.client.post(f"{API}/{org['id']}/archive", json={"reason": "Moved out"}, headers=headers)
    assert archived.status_code == 200
    assert archived.json()["active"] is False
    assert archived.json()["archived_at"] is not None
    # Gone from the default list, still there with status=archived and by id.
    assert hub.client.get(API, headers=headers).json()["total"] == 0
    assert hub.client.get(API, params={"status": "archived"}, headers=headers).json()["total"] == 1
    assert hub.client.get(f"{API}/{org['id']}", headers=headers).status_code == 200
    # An archived organisation is not edited until restored.
    blocked = hub.client.patch(f"{API}/{org['id']}", json={"town": "X"}, headers=headers)
    assert blocked.status_code == 422
    again = hub.client.post(f"{API}/{org['id']}/archive", json={"reason": "twice"}, headers=headers)
    assert again.status_code == 409
    restored = hub.client.post(f"{API}/{org['id']}/restore", json={"reason": "Back again"}, headers=headers)
    assert restored.json()["active"] is True
    assert restored.json()["archived_at"] is None


def test_tenant_sees_only_its_own_organisation(hub: Hub) -> None:
    mine = hub.make_org("Coastal Youth Trust")
    theirs = hub.make_org("Someone Else")
    headers = hub.headers_for(Role.TENANT, organisation_id=mine)
    listing = hub.client.get(API, headers=headers).json()
    assert [o["id"] for o in listing["items"]] == [mine]
    assert hub.client.get(f"{API}/{mine}", headers=headers).status_code == 200
    other = hub.client.get(f"{API}/{theirs}", headers=headers)
    assert other.status_code == 404  # not 403: another organisation's existence is not disclosed
    assert other.json()["detail"] == "That organisation was not found."
    assert hub.client.get(f"{API}/999999", headers=headers).status_code == 404


def test_tenant_and_trustee_cannot_change_organisations(hub: Hub) -> None:
    mine = hub.make_org("Coastal Youth Trust")
    for role in (Role.TENANT, Role.TRUSTEE):
        headers = hub.headers_for(role, organisation_id=mine if role == Role.TENANT else None)
        assert hub.client.post(API, json=FOOD_BANK, headers=headers).status_code == 403
        assert hub.client.patch(f"{API}/{mine}", json={"town": "X"}, headers=headers).status_code == 403


def test_huge_and_unknown_ids_are_404_not_500(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    for org_id in ("0", "99999999", str(2**63), str(10**30)):
        response = hub.client.get(f"{API}/{org_id}", headers=headers)
        assert response.status_code in (400, 404), (org_id, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
