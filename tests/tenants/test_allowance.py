"""Meeting-room allowances: confirmed bookings of tenant-bookable rooms count their real length
against the month's included hours (months in building time), a cancellation gives them back,
rooms' hire question is answered with what is left, and the billing run charges the minutes
beyond the allowance once, for the complete month before, at the tenant rate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.models import RateBand, Role
from rooms import AllowanceAnswer
from rooms.models import Booking
from rooms.schemas import RateIn, RoomCreate
from rooms.services import pricing, rooms
from tenants.services import allowance
from tests.conftest import Hub
from tests.tenants.money_support import (
    add_agreement,
    agreement_charges,
    app_settings,
    billing_run,
    ledger_check,
)

LONDON = ZoneInfo("Europe/London")
SYSTEM = Identity.system("test")


def make_room(hub: Hub, name: str, *, tenant_bookable: bool = True, tenant_hourly: int | None = 1_000) -> int:
    room = hub.run(
        lambda db: rooms.create_room(
            db, SYSTEM, RoomCreate(name=name, capacity=8, tenant_bookable=tenant_bookable)
        )
    ).id
    if tenant_hourly is not None:
        rate = RateIn(room_id=room, band=RateBand.TENANT, hourly_pence=tenant_hourly)
        hub.run(lambda db: pricing.set_rate(db, SYSTEM, rate))
    return room


def local(*parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=LONDON, fold=fold)  # type: ignore[misc]


def book(hub: Hub, org: int, room: int, start: datetime, end: datetime, status: str = "confirmed") -> int:
    async def work(db: AsyncSession) -> int:
        booking = Booking(
            room_id=room,
            organisation_id=org,
            title="Team meeting",
            category="meeting",
            visibility="private",
            status=status,
            start_at=start.astimezone(UTC),
            end_at=end.astimezone(UTC),
            rate_band="tenant",
            price_description="Included in the allowance",
        )
        db.add(booking)
        await db.commit()
        return booking.id

    return hub.run(work)


def cancel(hub: Hub, booking_id: int) -> None:
    async def work(db: AsyncSession) -> None:
        booking = await db.get(Booking, booking_id)
        assert booking is not None
        booking.status = "cancelled"
        await db.commit()

    hub.run(work)


def usage(hub: Hub, org: int, first: date) -> allowance.AllowanceUsage:
    settings = app_settings(hub)
    return hub.run(lambda db: allowance.usage(db, settings, org, first))


def test_a_booking_over_the_night_the_clocks_go_back_counts_its_real_length(hub: Hub) -> None:
    org = hub.make_org()
    add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=20 * 60)
    room = make_room(hub, "Meeting Room")
    # Sat 24 Oct 2026 22:00 BST to Sun 25 Oct 06:00 GMT: 8 hours on the clock, 9 really.
    book(hub, org, room, local(2026, 10, 24, 22, 0), local(2026, 10, 25, 6, 0))
    found = usage(hub, org, date(2026, 10, 1))
    assert (found.included_minutes, found.used_minutes, found.left_minutes, found.over_minutes) == (
        1_200,
        540,
        660,
        0,
    )


def test_a_booking_over_the_night_the_clocks_go_forward_counts_its_real_length(hub: Hub) -> None:
    org = hub.make_org()
    add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=600)
    room = make_room(hub, "Meeting Room")
    # Sat 27 Mar 2027 22:00 GMT to Sun 28 Mar 06:00 BST: 8 hours on the clock, 7 really.
    book(hub, org, room, local(2027, 3, 27, 22, 0), local(2027, 3, 28, 6, 0))
    assert usage(hub, org, date(2027, 3, 1)).used_minutes == 420


def test_a_booking_across_a_month_boundary_counts_in_each_month_in_building_time(hub: Hub) -> None:
    org = hub.make_org()
    add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=600)
    room = make_room(hub, "Meeting Room")
    # 30 Sep 23:30 BST (22:30 UTC) to 1 Oct 00:30 BST: half an hour in each month — in UTC
    # terms all of it is on 30 September, which is why months are taken in building time.
    book(hub, org, room, local(2026, 9, 30, 23, 30), local(2026, 10, 1, 0, 30))
    # 31 Oct 23:00 GMT to 1 Nov 01:00 GMT: an hour in each.
    book(hub, org, room, local(2026, 10, 31, 23, 0), local(2026, 11, 1, 1, 0))
    assert usage(hub, org, date(2026, 9, 1)).used_minutes == 30
    assert usage(hub, org, date(2026, 10, 1)).used_minutes == 90
    assert usage(hub, org, date(2026, 11, 1)).used_minutes == 60


def test_only_confirmed_bookings_of_tenant_bookable_rooms_count_and_a_cancellation_gives_hours_back(
    hub: Hub,
) -> None:
    org = hub.make_org()
    other = hub.make_org()
    add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=600)
    room = make_room(hub, "Meeting Room")
    hall = make_room(hub, "Main Hall", tenant_bookable=False)
    kept = book(hub, org, room, local(2026, 11, 2, 10, 0), local(2026, 11, 2, 12, 0))
    cancelled = book(hub, org, room, local(2026, 11, 3, 10, 0), local(2026, 11, 3, 11, 0))
    book(hub, org, room, local(2026, 11, 4, 10, 0), local(2026, 11, 4, 11, 0), status="provisional")
    book(hub, org, hall, local(2026, 11, 5, 10, 0), local(2026, 11, 5, 13, 0))
    book(hub, other, room, local(2026, 11, 6, 10, 0), local(2026, 11, 6, 13, 0))
    assert usage(hub, org, date(2026, 11, 1)).used_minutes == 180
    cancel(hub, cancelled)
    found = usage(hub, org, date(2026, 11, 1))
    assert (found.used_minutes, found.left_minutes) == (120, 480)
    assert kept


def test_rooms_hire_question_is_answered_with_the_hours_left_after_the_booking(hub: Hub) -> None:
    org = hub.make_org()
    no_hours = hub.make_org()
    add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=300)
    add_agreement(hub, no_hours, date(2026, 4, 1))
    room = make_room(hub, "Meeting Room")
    first = book(hub, org, room, local(2026, 11, 2, 10, 0), local(2026, 11, 2, 11, 30))
    settings = app_settings(hub)

    def ask(
        organisation: int, start: datetime, end: datetime, exclude: int | None = None
    ) -> AllowanceAnswer | None:
        return hub.run(
            lambda db: allowance.hire_allowance(
                db, organisation, room, start, end, exclude, settings=settings
            )
        )

    answer = ask(org, local(2026, 11, 9, 10, 0), local(2026, 11, 9, 11, 0))
    assert answer == AllowanceAnswer(
        note="Included in your meeting-room hours: 2 h 30 min left this month after this booking"
    )
    # Re-pricing the first booking itself (moved to 2 hours) leaves it out of what is used.
    again = ask(org, local(2026, 11, 2, 10, 0), local(2026, 11, 2, 12, 0), exclude=first)
    assert again == AllowanceAnswer(
        note="Included in your meeting-room hours: 3 h left this month after this booking"
    )
    beyond = ask(org, local(2026, 11, 9, 9, 0), local(2026, 11, 9, 14, 0))
    assert beyond == AllowanceAnswer(
        note="Included in your meeting-room hours except 1 h 30 min beyond them this month, "
        "billed with the monthly billing run at the tenant rate"
    )
    assert ask(no_hours, local(2026, 11, 9, 10, 0), local(2026, 11, 9, 11, 0)) is None
    assert ask(hub.make_org(), local(2026, 11, 9, 10, 0), local(2026, 11, 9, 11, 0)) is None


def test_the_run_charges_the_hours_beyond_the_allowance_for_the_month_before_once(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub, org, date(2026, 4, 1), frequency="monthly", rent_pence_per_year=0, included_minutes_per_month=240
    )
    meeting = make_room(hub, "Meeting Room", tenant_hourly=1_200)
    board = make_room(hub, "Board Room", tenant_hourly=3_000)
    # October: 3 h (meeting) + 9 h real over the clock change (board room): 12 h, 4 included.
    book(hub, org, meeting, local(2026, 10, 5, 9, 0), local(2026, 10, 5, 12, 0))
    book(hub, org, board, local(2026, 10, 24, 22, 0), local(2026, 10, 25, 6, 0))
    billing_run(hub, "2026-11")
    billing_run(hub, "2026-11")
    # The first 4 h: 3 in the meeting room, 1 in the board room; 8 h beyond, in the board room.
    (charge,) = agreement_charges(hub, agreement)
    assert (charge.stream, charge.supply_date, charge.net_pence) == (
        "allowance_overage",
        date(2026, 10, 31),
        24_000,
    )
    assert "8 h beyond 4 h" in charge.description
    assert ledger_check(hub).ok


def test_no_hours_beyond_means_no_charge_but_the_month_is_settled(hub: Hub) -> None:
    org = hub.make_org()
    agreement = add_agreement(
        hub, org, date(2026, 4, 1), frequency="monthly", rent_pence_per_year=0, included_minutes_per_month=600
    )
    room = make_room(hub, "Meeting Room")
    book(hub, org, room, local(2026, 10, 5, 9, 0), local(2026, 10, 5, 12, 0))
    result = billing_run(hub, "2026-11")
    assert agreement_charges(hub, agreement) == []
    assert any("1 period charge(s) posted" in line for line in result.posted)


def test_the_allowance_api_answers_staff_and_the_tenant_itself_and_404_to_another(hub: Hub) -> None:
    org = hub.make_org()
    other = hub.make_org()
    agreement = add_agreement(hub, org, date(2026, 4, 1), included_minutes_per_month=600)
    room = make_room(hub, "Meeting Room")
    book(hub, org, room, local(2026, 10, 24, 22, 0), local(2026, 10, 25, 6, 0))
    path = f"/api/v1/agreements/{agreement}/allowance"
    own = hub.client.get(
        path, params={"month": "2026-10"}, headers=hub.headers_for(Role.TENANT, organisation_id=org)
    )
    assert own.status_code == 200, own.text
    assert own.json() == {
        "agreement_id": agreement,
        "month": "2026-10",
        "included_minutes": 600,
        "used_minutes": 540,
        "left_minutes": 60,
        "over_minutes": 0,
    }
    trustee = hub.client.get(path, params={"month": "2026-10"}, headers=hub.headers_for(Role.TRUSTEE))
    assert trustee.status_code == 200 and trustee.json()["used_minutes"] == 540
    stranger = hub.client.get(path, headers=hub.headers_for(Role.TENANT, organisation_id=other))
    assert stranger.status_code == 404
    bad = hub.client.get(path, params={"month": "October"}, headers=hub.headers_for(Role.ADMIN))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "month"
