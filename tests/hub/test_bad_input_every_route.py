"""Every route, fed rubbish, answers 4xx: never a 500, never half-written data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hub.models import AuditEntry, Organisation, Role, User
from tests.conftest import Hub
from tests.hub.test_permissions import EXEMPT_PREFIXES, http_handlers

RUBBISH_JSON: list[tuple[str, Any]] = [
    ("malformed", b'{"name": '),
    ("not an object", b"[1, 2, 3]"),
    ("wrong types", b'{"name": 5, "kind": [], "email": {}, "role": 7, "password": false, "reason": null}'),
    ("huge numbers", b'{"organisation_id": 1e999, "user_id": 99999999999999999999999}'),
    ("nul bytes", b'{"name": "a\\u0000b", "kind": "vcse"}'),
]
RUBBISH_QUERY = {"page": "-1", "per_page": "a lot", "kind": "x" * 500, "since": "not-a-time", "q": "\x00"}
RUBBISH_IDS = {
    "organisation_id": "9223372036854775808",
    "user_id": "0",
    "token_id": "18446744073709551616",
    "room_id": "99999999999999999999",
    "booking_id": "-1",
    "series_id": "9223372036854775807",
    "charge_id": "0",
    "invoice_id": "99999999999999999999",
    "payment_id": "-5",
}


def _counts(hub: Hub) -> tuple[int, int, int]:
    async def count(db: Any) -> tuple[int, int, int]:
        return (
            await db.scalar(select(func.count()).select_from(Organisation)),
            await db.scalar(select(func.count()).select_from(User)),
            await db.scalar(select(func.count()).select_from(AuditEntry)),
        )

    return hub.run(count)


@pytest.mark.parametrize(("label", "body"), RUBBISH_JSON, ids=[label for label, _ in RUBBISH_JSON])
def test_rubbish_bodies_never_500_and_write_nothing(hub: Hub, label: str, body: bytes) -> None:
    headers = {**hub.headers_for(Role.ADMIN), "content-type": "application/json"}
    hub.make_org("Existing Organisation")
    before = _counts(hub)
    failures = []
    for method, path, _handler in http_handlers(hub.client.app):
        if path.startswith(EXEMPT_PREFIXES) or method not in ("POST", "PATCH", "PUT"):
            continue
        concrete = path.replace("{organisation_id:int}", "1").replace("{user_id:int}", "1")
        concrete = concrete.replace("{token_id:int}", "424242")  # not the caller's own token
        for name in ("room_id", "booking_id", "series_id", "charge_id", "invoice_id", "payment_id"):
            concrete = concrete.replace("{" + name + ":int}", "1")
        response = hub.client.request(method, concrete, content=body, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert failures == []
    assert _counts(hub) == before


def test_rubbish_query_strings_and_ids_never_500(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    failures = []
    for method, path, _handler in http_handlers(hub.client.app):
        if path.startswith(EXEMPT_PREFIXES) or method != "GET":
            continue
        concrete = path
        for name, value in RUBBISH_IDS.items():
            concrete = concrete.replace("{" + name + ":int}", value)
        response = hub.client.get(concrete, params=RUBBISH_QUERY, headers=headers)
        if response.status_code >= 500:
            failures.append(f"GET {path}: {response.status_code} {response.text[:200]}")
    assert failures == []


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "field"),
    [
        ("PATCH", "/api/v1/users/{user}", {"role": "overlord"}, 400, "role"),
        ("PATCH", "/api/v1/users/{user}", {"organisation_id": 0}, 400, "organisation_id"),
        ("PATCH", "/api/v1/users/{user}", {"email": "new@x.org"}, 400, "email"),
        ("PATCH", "/api/v1/users/{user}", {"role": "tenant"}, 422, "organisation_id"),
        ("POST", "/api/v1/users/{user}/password", {"password": "short"}, 400, "password"),
        ("POST", "/api/v1/users/{user}/password", {}, 400, "password"),
        ("POST", "/api/v1/tokens", {"name": ""}, 400, "name"),
        ("POST", "/api/v1/tokens", {"name": "   "}, 422, "name"),
        ("POST", "/api/v1/tokens", {"name": "x", "user_id": 987654}, 422, "user_id"),
        ("POST", "/api/v1/tokens", {"name": "x", "scope": "all"}, 400, "scope"),
        ("POST", "/api/v1/organisations/{org}/restore", {"reason": "not archived"}, 409, "active"),
        ("POST", "/api/v1/organisations/{org}/archive", {}, 400, "reason"),
    ],
)
def test_bad_input_per_route_names_the_field(
    hub: Hub, method: str, path: str, payload: dict[str, Any], status: int, field: str
) -> None:
    headers = hub.headers_for(Role.ADMIN)
    user = hub.make_user(Role.RECEPTIONIST)
    org = hub.make_org("Harbour Art Group")
    response = hub.client.request(method, path.format(user=user.id, org=org), json=payload, headers=headers)
    assert response.status_code == status, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/api/v1/users/424242", "/api/v1/organisations/424242"])
def test_unknown_ids_are_404(hub: Hub, path: str) -> None:
    response = hub.client.get(path, headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_revoking_an_unknown_token_is_404(hub: Hub) -> None:
    response = hub.client.post("/api/v1/tokens/424242/revoke", headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 404


def test_admin_user_pages_show_errors_beside_fields(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    token = hub.csrf("/admin/users")
    created = hub.client.post(
        "/admin/users", data={"_csrf": token, "name": "", "email": "nope", "role": "tenant", "password": "x"}
    )
    assert created.status_code == 400
    for field in ("email", "password"):
        assert f'id="{field}-error"' in created.text
    other = hub.make_user(Role.TRUSTEE)
    mismatch = hub.client.post(
        f"/admin/users/{other.id}/password",
        data={"_csrf": token, "password": "long-enough-pw", "password_again": "different"},
    )
    assert mismatch.status_code == 422
    assert 'id="password_again-error"' in mismatch.text
    bad_org = hub.client.post(
        f"/admin/users/{other.id}",
        data={"_csrf": token, "name": "T", "role": "trustee", "organisation_id": "abc", "active": "on"},
    )
    assert bad_org.status_code == 422
    assert 'id="organisation_id-error"' in bad_org.text
