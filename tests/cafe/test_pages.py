"""The café pages through the real app: who may open them, and what a person reads on them."""

from __future__ import annotations

import pytest

from hub.models import Role
from tests.conftest import Hub


@pytest.mark.parametrize("role", [Role.CAFE, Role.CAFE_SUPERVISOR, Role.ADMIN])
def test_the_till_opens_for_cafe_staff_supervisors_and_admins(hub: Hub, role: Role) -> None:
    hub.login_as(role)
    page = hub.client.get("/till")
    assert page.status_code == 200
    assert '<meta name="csrf-token" content="' in page.text
    assert "/static/cafe/till.js" in page.text
    # The words a worker taps, not icons alone.
    for word in ("Take away", "Eat in", "Undo", "Cash", "Card", "Total"):
        assert word in page.text


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.TRUSTEE])
def test_the_till_is_not_for_the_desk_or_trustees(hub: Hub, role: Role) -> None:
    hub.login_as(role)
    assert hub.client.get("/till").status_code == 403


def test_signed_out_the_till_asks_to_sign_in(hub: Hub) -> None:
    response = hub.client.get("/till", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=/till")


def test_the_service_worker_may_look_after_the_till(hub: Hub) -> None:
    response = hub.client.get("/static/cafe/till-sw.js")
    assert response.status_code == 200
    assert response.headers["service-worker-allowed"] == "/till"
    assert "javascript" in response.headers["content-type"]


def test_cafe_staff_are_shown_the_way_to_the_till_from_home(hub: Hub) -> None:
    hub.login_as(Role.CAFE)
    html = hub.client.get("/").text
    assert 'href="/till"' in html
