"""A person known to every part of the hub, made through the real API and services.

Priya Shah has a receptionist account (signed in once, with an API token she booked with), is the
secretary and billing contact of the Shah Family Lunch Club, is the contact of a booking, has a
message in the outbox, and her club has an issued invoice (which copied her email)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON, String

from hub.auth import Identity
from hub.db import Base
from hub.mail import Attachment, enqueue
from hub.models import AuditEntry, OrganisationKind, RateBand, Role, User

# The browser fixtures (the demo server, Chromium, the CSP watch) for test_browser.py.
from tests.browser.conftest import browser, live_server, no_csp_violations, page, server_folder  # noqa: F401
from tests.conftest import PASSWORD, Hub
from tests.rooms.conftest import make_room, set_rate

EMAIL = "priya.shah@example.org"
TYPED_EMAIL = "Priya.Shah@Example.ORG"  # how an admin might type it: case does not matter
NAME = "Priya Shah"
ORG_PHONE = "01253 555 0199"
BOOKING_NAME = "Priya K. Shah"  # the name she gave when booking: hers, because it came with her email
BOOKING_PHONE = "07700 900123"
ORG_NAME = "Shah Family Lunch Club"
MESSAGE_SUBJECT = "Your booking on 1 December"
MESSAGE_BODY = "Dear Priya Shah, your booking of the Meeting Room is confirmed."
NEEDLES = (EMAIL, NAME.lower(), BOOKING_NAME.lower(), ORG_PHONE, BOOKING_PHONE)


@dataclass
class Scenario:
    admin: dict[str, str]
    admin_user_id: int
    person_id: int
    organisation_id: int
    booking_id: int
    invoice_id: int
    invoice_number: str
    message_id: int


def api(hub: Hub, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    response = hub.client.request(method, path, headers=headers, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def scenario(hub: Hub) -> Scenario:
    admin_user = hub.make_user(Role.ADMIN, email="office@hub.example")
    admin = {"Authorization": f"Bearer {hub.token_for(admin_user)}"}
    person = api(
        hub,
        "POST",
        "/api/v1/users",
        admin,
        json={"email": TYPED_EMAIL, "name": NAME, "role": "receptionist", "password": PASSWORD},
    )
    assert hub.login(EMAIL).status_code == 303  # a session and a login attempt
    hub.client.cookies.clear()
    user = hub.run(lambda db: db.get(User, person["id"]))
    assert user is not None
    person_headers = {"Authorization": f"Bearer {hub.token_for(user)}"}
    org = api(
        hub,
        "POST",
        "/api/v1/organisations",
        admin,
        json={
            "name": ORG_NAME,
            "kind": OrganisationKind.COMMUNITY_GROUP.value,
            "billing_email": EMAIL,
            "address_line1": "4 Pharos Street",
            "town": "Fleetwood",
            "postcode": "FY7 6BE",
            "contacts": [
                {"name": NAME, "email": EMAIL, "phone": ORG_PHONE, "role": "Secretary"},
                {
                    "name": "Tom Okafor",
                    "email": "tom@example.org",
                    "phone": "01253 555 0100",
                    "role": "Chair",
                },
            ],
        },
    )
    room = make_room(hub, "Meeting Room", 12)
    set_rate(hub, room, RateBand.COMMUNITY, 1_200)
    booking = api(
        hub,
        "POST",
        "/api/v1/bookings",
        person_headers,
        json={
            "room_id": room,
            "organisation_id": org["id"],
            "title": "Lunch club committee",
            "start": "2026-12-01T14:00:00",
            "end": "2026-12-01T16:00:00",
            "contact_name": BOOKING_NAME,
            "contact_email": "PRIYA.SHAH@example.org",
            "contact_phone": BOOKING_PHONE,
        },
    )
    invoice = api(hub, "POST", "/api/v1/invoices", admin, json={"organisation_id": org["id"]})

    async def outbox(db: AsyncSession) -> int:
        message = await enqueue(
            db,
            kind="booking_confirmed",
            to=EMAIL,
            to_name=NAME,
            subject=MESSAGE_SUBJECT,
            text=MESSAGE_BODY,
            attachments=[
                Attachment("booking.ics", "text/calendar", f"ATTENDEE;CN={NAME}:mailto:{EMAIL}".encode())
            ],
            about=("booking", booking["id"]),
        )
        assert message is not None
        await db.commit()
        return message.id

    message_id = hub.run(outbox)
    return Scenario(
        admin=admin,
        admin_user_id=admin_user.id,
        person_id=person["id"],
        organisation_id=org["id"],
        booking_id=booking["id"],
        invoice_id=invoice["id"],
        invoice_number=invoice["number"],
        message_id=message_id,
    )


def dump(hub: Hub) -> dict[tuple[str, str], list[str]]:
    """Every text value of every table (strings and JSON, lower-cased), by (table, column), in id
    order: the whole database as far as a person's name, email or phone could be in it."""

    async def work(db: AsyncSession) -> dict[tuple[str, str], list[str]]:
        values: dict[tuple[str, str], list[str]] = {}
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            for column in table.columns:
                if isinstance(column.type, JSON):
                    expression: Any = cast(column, Text)
                elif isinstance(column.type, String):  # Text is a String too
                    expression = column
                else:
                    continue
                rows = await db.scalars(select(func.lower(expression)).select_from(table).order_by(*order))
                values[(table.name, column.name)] = [v for v in rows if v is not None]
        return values

    return hub.run(work)


def where(values: dict[tuple[str, str], list[str]], needle: str) -> set[tuple[str, str]]:
    """The (table, column) pairs where ``needle`` appears (JSON unicode escapes read as text)."""
    needle = needle.lower()
    return {
        key for key, texts in values.items() if any(needle in t or needle in _unescaped(t) for t in texts)
    }


def _unescaped(text: str) -> str:
    return text.encode("utf-8").decode("unicode_escape", "replace") if "\\u" in text else text


def audit_rows(hub: Hub) -> list[tuple[int, str, str, str]]:
    async def work(db: AsyncSession) -> list[tuple[int, str, str, str]]:
        rows = await db.execute(
            select(AuditEntry.id, AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id).order_by(
                AuditEntry.at, AuditEntry.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    return hub.run(work)


SYSTEM = Identity.system("test")
