"""A test-only module providing the reports' occupancy and café figures with fixed numbers, so the
reports' tests do not depend on the tenants and café modules (the names and shapes are the
contract in ``hub/reports/__init__.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hub.modules import Module
from hub.reports import CAFE_TRADING, OCCUPANCY


@dataclass
class FakeOccupancy:
    month: date
    lettable_area_m2: Decimal
    let_area_m2: Decimal
    share_bp: int
    rent_roll_pence: int


@dataclass
class FakeTrading:
    takings_gross_pence: int = 123_456
    takings_net_pence: int = 102_880
    takings_vat_pence: int = 20_576
    transactions: int = 4_321
    average_basket_pence: int = 286
    vat_by_rate: list[tuple[int, int, int]] = field(
        default_factory=lambda: [(0, 40_000, 0), (2_000, 62_880, 20_576)]
    )
    top_products: list[tuple[str, int, int]] = field(
        default_factory=lambda: [("Tea", 900, 135_000), ("=Toastie", 12, 5_400)]
    )
    pif_given_units: int = 40
    pif_given_pence: int = 8_000
    pif_redeemed_units: int = 31
    pif_redeemed_pence: int = 6_200
    variances: list[tuple[Any, str, date, int, str]] = field(
        default_factory=lambda: [(7, "Counter", date(2026, 3, 6), -250, "Short")]
    )
    by_month: list[tuple[date, int, int]] = field(
        default_factory=lambda: [(date(2026, 3, 1), 123_456, 4_321)]
    )


async def occupancy(db: Any, settings: Any, first: date, last: date) -> list[FakeOccupancy]:
    return [
        FakeOccupancy(date(first.year, first.month, 1), Decimal("250.0"), Decimal("187.5"), 7_500, 2_400_000)
    ]


async def trading(db: Any, settings: Any, first: date, last: date) -> FakeTrading:
    return FakeTrading()


FAKE_PROVIDERS = Module(name="fake_reports", provides={OCCUPANCY: occupancy, CAFE_TRADING: trading})
