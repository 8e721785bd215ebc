"""API tokens: shown once, stored hashed, revocable, last-used time."""

from __future__ import annotations

from sqlalchemy import select

from hub.models import ApiToken, Role
from tests.conftest import Hub


def test_token_is_shown_once_and_stored_only_as_a_hash(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post("/api/v1/tokens", json={"name": "Finance spreadsheet"}, headers=headers)
    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("hk_") and len(secret) > 40
    listing = hub.client.get("/api/v1/tokens", headers=headers)
    assert secret not in listing.text
    assert {t["name"] for t in listing.json()} == {"test", "Finance spreadsheet"}
    stored = hub.run(lambda db: db.scalars(select(ApiToken.token_hash)))
    assert all(secret not in h for h in stored)
    me = hub.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["via"] == "token"


def test_revoked_token_stops_working_at_once(hub: Hub) -> None:
    headers = hub.headers_for(Role.TRUSTEE)
    created = hub.client.post("/api/v1/tokens", json={"name": "temporary"}, headers=headers).json()
    new_headers = {"Authorization": f"Bearer {created['token']}"}
    assert hub.client.get("/api/v1/me", headers=new_headers).status_code == 200
    revoked = hub.client.post(f"/api/v1/tokens/{created['details']['id']}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = hub.client.get("/api/v1/me", headers=new_headers)
    assert after.status_code == 401
    assert after.headers["content-type"].startswith("application/problem+json")
    again = hub.client.post(f"/api/v1/tokens/{created['details']['id']}/revoke", headers=headers)
    assert again.status_code == 409


def test_last_used_time_is_recorded(hub: Hub) -> None:
    user = hub.make_user(Role.ADMIN)
    secret = hub.token_for(user)
    before = hub.run(lambda db: db.scalar(select(ApiToken.last_used_at)))
    assert before is None
    hub.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    after = hub.run(lambda db: db.scalar(select(ApiToken.last_used_at)))
    assert after is not None


def test_people_cannot_see_or_revoke_each_others_tokens(hub: Hub) -> None:
    alice = hub.headers_for(Role.RECEPTIONIST)
    bob = hub.headers_for(Role.RECEPTIONIST)
    bobs = hub.client.post("/api/v1/tokens", json={"name": "bob's"}, headers=bob).json()["details"]
    assert "bob's" not in hub.client.get("/api/v1/tokens", headers=alice).text
    assert hub.client.post(f"/api/v1/tokens/{bobs['id']}/revoke", headers=alice).status_code == 404
    admin = hub.headers_for(Role.ADMIN)
    assert "bob's" in hub.client.get("/api/v1/tokens", headers=admin).text
    assert hub.client.post(f"/api/v1/tokens/{bobs['id']}/revoke", headers=admin).status_code == 200


def test_only_admins_issue_tokens_for_others(hub: Hub) -> None:
    other = hub.make_user(Role.TRUSTEE)
    receptionist = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": other.id}, headers=receptionist
    )
    assert response.status_code == 404
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.post("/api/v1/tokens", json={"name": "x", "user_id": other.id}, headers=admin)
    assert response.status_code == 201
    assert response.json()["details"]["user_id"] == other.id


def test_garbage_bearer_token_is_401(hub: Hub) -> None:
    for value in ("Bearer nonsense", "Bearer ", "Bearer hk_" + "A" * 43):
        response = hub.client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401


def test_tokens_page_shows_secret_once(hub: Hub) -> None:
    hub.login_as(Role.TENANT)
    token = hub.csrf("/account/tokens")
    created = hub.client.post("/account/tokens", data={"_csrf": token, "name": "Outlook"})
    assert created.status_code == 201
    secret = created.text.split('id="new-secret" value="')[1].split('"')[0]
    assert secret.startswith("hk_")
    assert secret not in hub.client.get("/account/tokens").text
    blank = hub.client.post("/account/tokens", data={"_csrf": token, "name": ""})
    assert blank.status_code == 422
    assert "must not be blank" in blank.text
