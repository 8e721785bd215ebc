"""Each module's part of an erasure: the till's staff labels, a booking series' contact, and a
tenancy's notes. After it, the person is nowhere in the database (none of these are kept records)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cafe.models import Sale, TillSession
from hub.models import RateBand, Role, User
from rooms.models import Series
from tests.cafe.factory import make_cafe
from tests.conftest import Hub
from tests.privacy.conftest import api, dump, where
from tests.rooms.conftest import make_room, set_rate

ERASE = "/api/v1/privacy/erase"
REASON = "Asked in writing on 2 December 2026"


def admin_headers(hub: Hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.token_for(hub.make_user(Role.ADMIN))}"}


def erase(hub: Hub, headers: dict[str, str], email: str) -> dict[str, Any]:
    return api(hub, "POST", ERASE, headers, json={"email": email, "reason": REASON, "confirm": email})  # type: ignore[no-any-return]


def test_till_staff_are_replaced_by_the_pseudonym_and_takings_stay(hub: Hub) -> None:
    cafe = make_cafe(hub)
    rung = cafe.ring(
        cafe.sale([cafe.line("Tea")], [{"method": "cash", "amount_pence": 180, "tendered_pence": 200}])
    )
    assert rung.status_code == 201, rung.text
    supervisor = hub.run(lambda db: db.scalar(select(User).where(User.role == Role.CAFE_SUPERVISOR.value)))
    assert supervisor is not None
    email = supervisor.email
    admin = admin_headers(hub)
    takings = hub.run(lambda db: db.scalar(select(Sale.total_pence)))
    body = erase(hub, admin, email)
    assert body["counts"]["cafe.till_sessions_opened"] == 1
    session = hub.run(lambda db: db.get(TillSession, cafe.session))
    assert session is not None
    assert (session.opened_by_id, session.opened_by_label) == (supervisor.id, body["pseudonym"])
    assert hub.run(lambda db: db.scalar(select(Sale.total_pence))) == takings == 180
    assert where(dump(hub), email) == set()
    check = hub.client.get("/api/v1/ledger/check", headers=admin)
    assert check.json()["ok"] is True, check.text


def test_a_series_contact_and_a_units_notes_are_replaced(hub: Hub) -> None:
    admin = admin_headers(hub)
    email = "sam.ryder@example.org"
    org = api(
        hub,
        "POST",
        "/api/v1/organisations",
        admin,
        json={"name": "Chair Yoga Friends", "kind": "community_group"},
    )
    room = make_room(hub, "Hall A", 60)
    set_rate(hub, room, RateBand.COMMUNITY, 1_200)
    made = api(
        hub,
        "POST",
        "/api/v1/series",
        admin,
        json={
            "room_id": room,
            "organisation_id": org["id"],
            "title": "Chair yoga",
            "category": "class",
            "first_date": "2027-03-16",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 2},
            "contact_name": "Sam Ryder",
            "contact_email": email,
            "contact_phone": "07700 900456",
        },
    )
    api(
        hub,
        "POST",
        "/api/v1/units",
        admin,
        json={
            "name": "Office 3",
            "kind": "office",
            "area_m2": 12.5,
            "notes": f"Keys with Sam Ryder ({email})",
        },
    )
    body = erase(hub, admin, email)
    assert body["counts"]["rooms.series"] == 1
    assert body["counts"]["rooms.bookings"] == 2
    assert body["counts"]["tenants.unit_notes"] == 1
    series = hub.run(lambda db: db.get(Series, made["id"]))
    assert series is not None
    template = series.template
    assert (template["contact_name"], template["contact_email"], template["contact_phone"]) == (
        body["pseudonym"],
        None,
        None,
    )
    values = dump(hub)
    for needle in (email, "sam ryder", "07700 900456"):
        assert where(values, needle) == set(), needle
