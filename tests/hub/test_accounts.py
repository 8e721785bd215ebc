"""Signing in and out, lock-out, password resets, sessions and CSRF."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import select

from hub.app import create_app
from hub.config import Settings
from hub.db import utcnow
from hub.models import AuditEntry, LoginAttempt, Role, User
from tests.conftest import PASSWORD, Hub


def test_login_sets_a_secure_session_cookie_and_lands_on_home(hub: Hub) -> None:
    user = hub.make_user(Role.TENANT)
    response = hub.login(user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    set_cookie = response.headers["set-cookie"]
    assert "hub_session=" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie or "samesite=lax" in set_cookie.lower()
    home = hub.client.get("/")
    assert home.status_code == 200
    assert f"Hello, {user.name}" in home.text


def test_staff_land_on_the_desk_and_keep_their_home_page(hub: Hub) -> None:
    # Issue 12: staff (admin, receptionist) land on the desk after signing in; "/" keeps their
    # overview (organisations; for an admin the accounts and the latest changes).
    for role in (Role.RECEPTIONIST, Role.ADMIN):
        user = hub.make_user(role)
        assert hub.login(user.email).headers["location"] == "/desk"
        home = hub.client.get("/")
        assert home.status_code == 200
        assert f"Hello, {user.name}" in home.text


def test_staff_who_asked_for_a_page_land_on_it(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    token = hub.csrf("/login")
    form = {"_csrf": token, "email": user.email, "password": PASSWORD, "next": "/organisations"}
    response = hub.client.post("/login", data=form, follow_redirects=False)
    assert response.headers["location"] == "/organisations"


def test_cookie_is_secure_behind_a_trusted_https_proxy(settings: Settings) -> None:
    # The test client's address is "testclient". X-Forwarded-Proto counts only from a trusted proxy.
    def login_cookie(trusted_proxies: str, role: Role) -> str:
        app = create_app(replace(settings, trusted_proxies=trusted_proxies))
        with TestClient(app, base_url="http://hub.internal") as client:
            hub = Hub(client)
            user = hub.make_user(role)
            client.cookies.clear()
            token = hub.csrf("/login")
            response = client.post(
                "/login",
                data={"_csrf": token, "email": user.email, "password": PASSWORD},
                headers={"x-forwarded-proto": "https"},
                follow_redirects=False,
            )
            assert response.status_code == 303
            return response.headers["set-cookie"]

    assert "Secure" in login_cookie("testclient", Role.ADMIN)
    assert "Secure" not in login_cookie("127.0.0.1", Role.RECEPTIONIST)


def test_wrong_password_and_unknown_email_get_the_same_answer(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    wrong = hub.login(user.email, "not-the-password")
    unknown = hub.login("nobody@test.example", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an active account."
    assert message in wrong.text and message in unknown.text
    assert 'aria-invalid="true"' in wrong.text  # shown beside the field


def test_empty_login_form_names_both_fields(hub: Hub) -> None:
    hub.client.cookies.clear()
    token = hub.csrf("/login")
    response = hub.client.post("/login", data={"_csrf": token, "email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text


def test_repeated_failures_lock_the_account_even_for_the_right_password(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    for _ in range(5):
        assert hub.login(user.email, "wrong-password").status_code == 400
    locked = hub.login(user.email, PASSWORD)
    assert locked.status_code == 429
    assert "locked" in locked.text
    stored = hub.run(lambda db: db.get(User, user.id))
    assert stored is not None and stored.locked_until is not None
    entries = hub.run(
        lambda db: db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id)))
    )
    assert "user.locked" in list(entries)


def test_lock_expires_after_the_lockout_period(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)

    async def lock_in_the_past(db):  # type: ignore[no-untyped-def]
        stored = await db.get(User, user.id)
        stored.locked_until = utcnow() - timedelta(seconds=1)
        await db.commit()

    hub.run(lock_in_the_past)
    assert hub.login(user.email).status_code == 303


def test_success_resets_the_failure_count(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    for _ in range(4):
        hub.login(user.email, "wrong-password")
    assert hub.login(user.email).status_code == 303
    for _ in range(4):
        hub.login(user.email, "wrong-password")
    assert hub.login(user.email).status_code == 303


def test_many_failures_from_one_address_are_throttled(hub: Hub) -> None:
    for i in range(20):
        hub.login(f"guess{i}@test.example", "wrong-password")
    user = hub.make_user(Role.ADMIN)
    response = hub.login(user.email)
    assert response.status_code == 429
    assert "Too many failed sign-ins from this computer" in response.text
    attempts = hub.run(lambda db: db.scalars(select(LoginAttempt).where(LoginAttempt.succeeded.is_(False))))
    assert len(list(attempts)) == 20  # throttled tries are refused before they are counted


def test_admin_reset_unlocks_and_ends_sessions(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    assert hub.login(user.email).status_code == 303
    their_cookie = hub.client.cookies.get("hub_session")
    hub.client.cookies.clear()
    for _ in range(5):
        hub.login(user.email, "wrong-password")
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.post(
        f"/api/v1/users/{user.id}/password", json={"password": "a-brand-new-pass"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["locked_until"] is None
    # The old session no longer works; the old password neither; the new one does.
    hub.client.cookies.clear()
    hub.client.cookies.set("hub_session", their_cookie)
    assert hub.client.get("/api/v1/me").status_code == 401
    assert hub.login(user.email, PASSWORD).status_code == 400
    assert hub.login(user.email, "a-brand-new-pass").status_code == 303


def test_logout_ends_the_session(hub: Hub) -> None:
    hub.login_as(Role.TRUSTEE)
    token = hub.csrf("/")
    cookie = hub.client.cookies.get("hub_session")
    response = hub.client.post("/logout", data={"_csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    hub.client.cookies.set("hub_session", cookie)
    assert hub.client.get("/api/v1/me").status_code == 401


def test_form_post_without_csrf_token_is_refused(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.post("/organisations/new", data={"name": "X", "kind": "vcse"})
    assert response.status_code == 403
    assert "security token" in response.text


def test_login_without_csrf_cookie_is_refused(hub: Hub) -> None:
    user = hub.make_user(Role.ADMIN)
    hub.client.cookies.clear()
    response = hub.client.post("/login", data={"_csrf": "made-up", "email": user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_api_with_session_cookie_needs_csrf_header(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    payload = {"name": "Harbour Art Group", "kind": "community_group"}
    assert hub.client.post("/api/v1/organisations", json=payload).status_code == 403
    token = hub.csrf("/")
    ok = hub.client.post("/api/v1/organisations", json=payload, headers={"x-csrf-token": token})
    assert ok.status_code == 201


def test_deactivated_account_cannot_sign_in_and_loses_its_session(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST)
    hub.login(user.email)
    cookie = hub.client.cookies.get("hub_session")
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
    assert response.status_code == 200
    hub.client.cookies.clear()
    hub.client.cookies.set("hub_session", cookie)
    assert hub.client.get("/api/v1/me").status_code == 401
    assert hub.login(user.email).status_code == 400


def test_last_active_admin_cannot_be_demoted_or_deactivated(hub: Hub) -> None:
    admin = hub.make_user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {hub.token_for(admin)}"}
    demote = hub.client.patch(f"/api/v1/users/{admin.id}", json={"role": "trustee"}, headers=headers)
    assert demote.status_code == 422
    assert demote.json()["errors"] == [
        {"field": "role", "reason": "the hub must keep at least one active admin"}
    ]
    deactivate = hub.client.patch(f"/api/v1/users/{admin.id}", json={"active": False}, headers=headers)
    assert deactivate.status_code == 422
    hub.make_user(Role.ADMIN)
    assert (
        hub.client.patch(f"/api/v1/users/{admin.id}", json={"role": "trustee"}, headers=headers).status_code
        == 200
    )


def test_admin_creates_a_tenant_account_and_it_can_sign_in(hub: Hub) -> None:
    org_id = hub.make_org("Coastal Youth Trust")
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.post(
        "/api/v1/users",
        json={
            "email": "Dean@Coastal.org",
            "name": "Dean Walsh",
            "role": "tenant",
            "organisation_id": org_id,
            "password": "youth-work-rocks",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "dean@coastal.org"
    assert body["organisation_name"] == "Coastal Youth Trust"
    assert "password" not in body and "password_hash" not in body
    duplicate = hub.client.post(
        "/api/v1/users",
        json={
            "email": "dean@coastal.org",
            "name": "Dean",
            "role": "tenant",
            "organisation_id": org_id,
            "password": "youth-work-rocks",
        },
        headers=admin,
    )
    assert duplicate.status_code == 409
    assert hub.login("dean@coastal.org", "youth-work-rocks").status_code == 303


def test_next_parameter_only_follows_local_paths(hub: Hub) -> None:
    user = hub.make_user(Role.ADMIN)
    hub.client.cookies.clear()
    token = hub.csrf("/login")
    for target, expected in [
        ("/admin/users", "/admin/users"),
        # Not followed: an admin lands where staff land (issue 12: the desk).
        ("//evil.example/x", "/desk"),
        ("https://evil.example", "/desk"),
    ]:
        hub.client.cookies.delete("hub_session")
        response = hub.client.post(
            "/login",
            data={"_csrf": token, "email": user.email, "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_pages_redirect_anonymous_visitors_to_login(hub: Hub) -> None:
    response = hub.client.get("/organisations?q=food", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login?next=/organisations%3Fq%3Dfood"


def test_csrf_token_is_bound_to_the_session(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    first = hub.csrf("/")
    hub.login_as(Role.RECEPTIONIST)
    second = hub.csrf("/")
    assert first != second
    response = hub.client.post("/organisations/new", data={"_csrf": first, "name": "X", "kind": "vcse"})
    assert response.status_code == 403
    assert re.search(r"security token", response.text)
