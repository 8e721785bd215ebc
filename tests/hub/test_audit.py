"""The audit log: written with each change in the same transaction, read and filtered by admins."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.models import AuditEntry, Role
from tests.conftest import Hub


def _count(hub: Hub) -> int:
    return hub.run(lambda db: db.scalar(select(func.count()).select_from(AuditEntry)))  # type: ignore[no-any-return]


def test_each_change_is_recorded_with_actor_and_changes(hub: Hub) -> None:
    admin = hub.make_user(Role.ADMIN, email="boss@test.example")
    headers = {"Authorization": f"Bearer {hub.token_for(admin)}"}
    org = hub.client.post(
        "/api/v1/organisations", json={"name": "Wyre Carers", "kind": "vcse"}, headers=headers
    )
    org_id = org.json()["id"]
    hub.client.post(f"/api/v1/organisations/{org_id}/archive", json={"reason": "Merged"}, headers=headers)
    entries = hub.client.get("/api/v1/audit", params={"object_type": "organisation"}, headers=headers).json()
    assert [e["action"] for e in entries["items"]] == ["organisation.archived", "organisation.created"]
    archived = entries["items"][0]
    assert archived["actor"] == "boss@test.example"
    assert archived["actor_id"] == admin.id
    assert archived["reason"] == "Merged"
    assert archived["changes"] == {"active": [True, False]}
    assert archived["object_id"] == str(org_id)


def test_failed_change_writes_no_audit_entry(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    hub.client.post("/api/v1/organisations", json={"name": "Wyre Carers", "kind": "vcse"}, headers=headers)
    before = _count(hub)
    duplicate = hub.client.post(
        "/api/v1/organisations", json={"name": "WYRE CARERS", "kind": "vcse"}, headers=headers
    )
    assert duplicate.status_code == 409
    assert _count(hub) == before


def test_unchanged_update_records_nothing(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    org_id = hub.client.post(
        "/api/v1/organisations", json={"name": "Wyre Carers", "kind": "vcse"}, headers=headers
    ).json()["id"]
    before = _count(hub)
    hub.client.patch(f"/api/v1/organisations/{org_id}", json={"kind": "vcse"}, headers=headers)
    assert _count(hub) == before


def test_filters_and_paging(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    for i in range(5):
        hub.client.post(
            "/api/v1/organisations", json={"name": f"Group {i}", "kind": "community_group"}, headers=headers
        )
    hub.client.post("/api/v1/tokens", json={"name": "spreadsheet"}, headers=headers)
    page = hub.client.get(
        "/api/v1/audit", params={"action": "organisation", "per_page": 2, "page": 2}, headers=headers
    ).json()
    assert page["total"] == 5
    assert len(page["items"]) == 2
    tokens = hub.client.get("/api/v1/audit", params={"action": "token."}, headers=headers).json()
    assert {e["action"] for e in tokens["items"]} == {"token.created"}


def test_bad_audit_filters_are_400(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    for params, field in [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-01T09:00:00"}, "since"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "until"),
        ({"per_page": 0}, "per_page"),
    ]:
        response = hub.client.get("/api/v1/audit", params=params, headers=headers)
        assert response.status_code in (400, 422), (params, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]


def test_audit_has_no_write_routes(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert hub.client.request(method, "/api/v1/audit", headers=headers).status_code == 405


def test_audit_page_filters_by_day_in_building_time(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    hub.make_org("Pharos Kitchen CIC")
    page = hub.client.get("/admin/audit", params={"object_type": "organisation"})
    assert page.status_code == 200
    assert "Pharos Kitchen CIC" in page.text
    empty = hub.client.get("/admin/audit", params={"on": "2001-01-01"})
    assert "0 entries" in empty.text
    bad = hub.client.get("/admin/audit", params={"on": "not-a-day"})
    assert "Enter a date such as 2026-11-25." in bad.text
