"""The rooms module: its API, the reception desk pages and their navigation, its tables and demo,
the charge source it posts (a booking) and the income stream it earns into (room hire). It has no
commands and no home panels of its own (yet)."""

from __future__ import annotations

from pathlib import Path

import rooms.demo
from hub import reports
from hub.auth import ALL_ROLES, CAFE_ROLES, STAFF
from hub.mail import SCHEDULED
from hub.models import Role
from hub.modules import ChargeSource, IncomeStream, Module
from hub.privacy import PERSONAL_DATA
from hub.web import NavItem
from rooms.controllers import API_ROUTES
from rooms.mail import queue_hold_reminders
from rooms.privacy import PERSONAL_DATA_PROVIDER as rooms_personal_data
from rooms.services import reports as room_reports
from rooms.views import ROUTES


def _load_models() -> None:
    import rooms.models  # noqa: F401


ROOMS = Module(
    name="rooms",
    routes=[*API_ROUTES, *ROUTES],
    nav=[
        NavItem("Desk", "/desk", frozenset(STAFF), order=10),
        NavItem("Bookings", "/calendar", frozenset({Role.TRUSTEE}), order=10),
        # A tenant's own bookings are "My bookings" (the tenant portal); the building's day is this.
        NavItem("Building calendar", "/calendar", frozenset({Role.TENANT}), order=13),
        NavItem("What's on", "/whats-on", frozenset(STAFF | {Role.TRUSTEE, Role.TENANT}), order=15),
        # Café staff work the till (DESIGN §6): they have no bookings to follow.
        NavItem("My calendars", "/account/calendars", frozenset(ALL_ROLES - CAFE_ROLES), order=88),
    ],
    package_dir=Path(__file__).parent,
    load_models=_load_models,
    demo=rooms.demo.seed,
    income_streams=[IncomeStream("room_hire", "Room hire", "Income from charitable activities")],
    charge_sources=[
        ChargeSource(
            "booking", "Room booking", "room_hire", link=lambda source_id: f"/desk/bookings/{source_id}"
        )
    ],
    # The trustees' room figures (hub.reports asks for them by name).
    provides={
        reports.UTILISATION: room_reports.utilisation,
        reports.IMPACT: room_reports.provided_impact,
        PERSONAL_DATA: rooms_personal_data,
        # Holds about to lapse: their contact is reminded (the outbox's sender asks every few minutes).
        SCHEDULED: queue_hold_reminders,
    },
)
