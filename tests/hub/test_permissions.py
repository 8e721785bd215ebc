"""Every route × every role: who is let in, who gets 401/403. Routes are read from the app itself,
so a new route without an access rule, or with the wrong one, fails here."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from hub.app import create_app
from hub.auth import ALL_ROLES
from hub.models import Role
from tests.conftest import Hub, base_settings

ANONYMOUS = "anonymous"
EXEMPT_PREFIXES = ("/static", "/schema")


def http_handlers(app: Litestar) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, handler in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            found.append((method, route.path, handler[0] if isinstance(handler, tuple) else handler))
    return sorted(found, key=lambda item: (item[1], item[0]))


def test_every_route_states_who_may_call_it() -> None:
    app = create_app(base_settings("sqlite+aiosqlite:///:memory:"))
    missing = [
        f"{method} {path}"
        for method, path, handler in http_handlers(app)
        if not path.startswith(EXEMPT_PREFIXES)
        and not handler.opt.get("public")
        and "roles" not in handler.opt
    ]
    assert missing == []


def test_public_routes_are_only_the_expected_ones() -> None:
    app = create_app(base_settings("sqlite+aiosqlite:///:memory:"))
    public = {
        f"{method} {path}"
        for method, path, handler in http_handlers(app)
        if handler.opt.get("public") and not path.startswith(EXEMPT_PREFIXES)
    }
    feeds = {
        f"GET /feeds/{path}"  # (and HEAD, which http_handlers leaves out)
        for path in (
            "building.ics",
            "rooms/{room_file:str}",
            "categories/{category_file:str}",
            "private/{token_file:str}",
        )
    }
    # Stripe's webhook is public (Stripe cannot sign in): its signature is its authentication.
    expected = {"GET /", "GET /healthz", "GET /login", "POST /login", "GET /whats-on"}
    expected.add("POST /webhooks/stripe")
    assert public == expected | feeds


def _concrete(path: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + ":int}", str(value))
    return path


def _call(hub: Hub, method: str, path: str, csrf: str | None) -> int:
    is_api = path.startswith("/api/")
    headers = {"x-csrf-token": csrf} if (csrf and is_api) else {}
    if method in ("GET", "DELETE"):
        response = hub.client.request(method, path, headers=headers, follow_redirects=False)
    elif is_api:
        response = hub.client.request(method, path, json={}, headers=headers, follow_redirects=False)
    else:
        response = hub.client.request(method, path, data={"_csrf": csrf or ""}, follow_redirects=False)
    return response.status_code


@pytest.mark.parametrize("who", [ANONYMOUS, *sorted(r.value for r in ALL_ROLES)])
def test_role_route_matrix(hub: Hub, who: str) -> None:
    org_id = hub.make_org("Matrix Organisation")
    other = hub.make_user(Role.TRUSTEE)
    token_owner = hub.make_user(Role.TRUSTEE)
    hub.token_for(token_owner)
    # Ids that may not exist: an allowed caller then gets 404, which still proves access.
    ids = {
        "organisation_id": org_id,
        "user_id": other.id,
        "token_id": 1,
        "room_id": 1,
        "booking_id": 1,
        "series_id": 1,
        "charge_id": 1,
        "invoice_id": 1,
        "payment_id": 1,
    }
    csrf = hub.csrf("/login")  # anonymous forms carry the cookie-bound token
    if who != ANONYMOUS:
        hub.login_as(Role(who), organisation_id=org_id if who == Role.TENANT.value else None)
        csrf = hub.csrf("/")
    failures = []
    handlers = [h for h in http_handlers(hub.client.app) if not h[1].startswith(EXEMPT_PREFIXES)]
    # Signing out ends the session the rest of the walk depends on: do it last.
    handlers.sort(key=lambda h: h[1] == "/logout")
    for method, path, handler in handlers:
        status = _call(hub, method, _concrete(path, ids), csrf)
        allowed = handler.opt.get("public") or (who != ANONYMOUS and Role(who) in handler.opt["roles"])
        if allowed:
            ok = status not in (401, 403) and status < 500
        elif who == ANONYMOUS:
            ok = status == 401 if path.startswith("/api/") else status in (302, 303, 307)
        else:
            ok = status == 403
        if not ok:
            failures.append(f"{method} {path}: {status} (allowed={bool(allowed)})")
    assert failures == []
