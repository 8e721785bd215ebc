"""The occupancy figure for the trustees: hand-worked values, month by month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hub.reports import OCCUPANCY
from tenants.models import UnitKind
from tenants.schemas import ReviewIn
from tenants.services import agreements
from tenants.services.occupancy import months_between, share_bp
from tests.conftest import Hub
from tests.tenants.conftest import SYSTEM, hub_settings, make_agreement, make_unit


def test_share_is_rounded_half_up_and_zero_when_nothing_is_lettable() -> None:
    assert share_bp(Decimal("20.00"), Decimal("55.50")) == 3_604  # 3603.6
    assert share_bp(Decimal("1.00"), Decimal("3.00")) == 3_333  # 3333.3
    assert share_bp(Decimal("2.00"), Decimal("3.00")) == 6_667  # 6666.7
    assert share_bp(Decimal("0.01"), Decimal("200.00")) == 1  # exactly 0.5
    assert share_bp(Decimal("0.00"), Decimal("0.00")) == 0


def test_months_overlapping_the_period() -> None:
    assert months_between(date(2026, 11, 20), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_occupancy_by_month_from_live_agreements(hub: Hub) -> None:
    settings = hub_settings(hub)
    food_bank, credit_union, cic = (hub.make_org(n) for n in ("Food Bank", "Credit Union", "Fylde CIC"))
    office_1 = make_unit(hub, "Office 1", area_m2="20.00")
    office_2 = make_unit(hub, "Office 2", area_m2="30.00")
    desk = make_unit(hub, "Desk 1", kind=UnitKind.DESK, area_m2="5.50")
    make_unit(hub, "Store 1", kind=UnitKind.STORAGE, area_m2="10.00", out_of_use=True)
    # Lettable: 20 + 30 + 5.5 = 55.50 m² (the store is out of use).
    first = make_agreement(
        hub, food_bank, [office_1], date(2026, 1, 15), date(2026, 12, 31), rent_pence_per_year=1_000_000
    )
    hub.run(
        lambda db: agreements.add_review(
            db, settings, SYSTEM, first, ReviewIn(review_date=date(2026, 6, 1), uplift_bp=1_000)
        )
    )
    second = make_agreement(
        hub, credit_union, [office_2, desk], date(2026, 3, 1), rent_pence_per_year=2_000_000
    )
    hub.run(lambda db: agreements.end_agreement(db, settings, SYSTEM, second, date(2026, 4, 30), "Merged"))
    # A draft holds nothing.
    make_agreement(hub, cic, [office_2], date(2026, 5, 1), date(2027, 4, 30), activate=False)

    [provider] = hub.client.app.state.registry.provided(OCCUPANCY)

    async def work(db):  # type: ignore[no-untyped-def]
        return await provider(db, settings, date(2026, 1, 10), date(2026, 6, 20))

    rows = hub.run(work)
    assert [(r.month, r.lettable_area_m2, r.let_area_m2, r.share_bp, r.rent_roll_pence) for r in rows] == [
        (date(2026, 1, 1), Decimal("55.50"), Decimal("0.00"), 0, 0),  # starts on the 15th
        (date(2026, 2, 1), Decimal("55.50"), Decimal("20.00"), 3_604, 1_000_000),
        (date(2026, 3, 1), Decimal("55.50"), Decimal("55.50"), 10_000, 3_000_000),
        (date(2026, 4, 1), Decimal("55.50"), Decimal("55.50"), 10_000, 3_000_000),
        (date(2026, 5, 1), Decimal("55.50"), Decimal("20.00"), 3_604, 1_000_000),  # ended 30 April
        (date(2026, 6, 1), Decimal("55.50"), Decimal("20.00"), 3_604, 1_100_000),  # +10 % from 1 June
    ]
