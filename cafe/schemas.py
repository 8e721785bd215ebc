"""msgspec Structs for the café's API: what comes in (strict) and what goes out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from hub.schemas import MULTI_LINE_PATTERN, ONE_LINE_PATTERN, Id, Input

Pence = Annotated[int, Meta(ge=0, le=10_000_000)]
Quantity = Annotated[int, Meta(ge=1, le=999)]
SortOrder = Annotated[int, Meta(ge=-10_000, le=10_000)]
StockCount = Annotated[int, Meta(ge=0, le=1_000_000)]
ShortName = Annotated[str, Meta(min_length=1, max_length=40, pattern=ONE_LINE_PATTERN)]
CategoryName = Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE_PATTERN)]
Description = Annotated[str, Meta(max_length=1000, pattern=MULTI_LINE_PATTERN)]
Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=MULTI_LINE_PATTERN)]
DiscountCode = Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,32}$", description="lower-case letters, digits, _")]
Pictogram = Annotated[str, Meta(pattern=r"^[a-z0-9-]{1,100}$", description="an icon name, e.g. coffee")]
Allergen = Literal[
    "celery",
    "cereals_gluten",
    "crustaceans",
    "eggs",
    "fish",
    "lupin",
    "milk",
    "molluscs",
    "mustard",
    "tree_nuts",
    "peanuts",
    "sesame",
    "soya",
    "sulphites",
]
VatKindName = Literal["hot", "cold_food", "standard", "zero"]
PifKindName = Literal["coffee", "meal"]


# -- menu -------------------------------------------------------------------------------------------
class MenuCategoryIn(Input):
    name: CategoryName
    sort_order: SortOrder = 0
    active: bool = True


class MenuCategoryUpdate(Input):
    name: CategoryName | UnsetType = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class MenuCategoryOut(Struct):
    id: int
    name: str
    sort_order: int
    active: bool


class ModifierIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=60, pattern=ONE_LINE_PATTERN)]
    price_pence: Pence = 0
    id: Id | None = None  # an existing modifier of this product, to keep it (updates)


class ProductIn(Input):
    category_id: Id
    short_name: ShortName
    price_pence: Pence
    vat_kind: VatKindName
    description: Description = ""
    allergens: Annotated[list[Allergen], Meta(max_length=14)] = msgspec.field(default_factory=list)
    pictogram: Pictogram | None = None
    available: bool = True
    sort_order: SortOrder = 0
    stock_count: StockCount | None = None
    low_stock_at: StockCount | None = None
    pay_it_forward_kind: PifKindName | None = None
    modifiers: Annotated[list[ModifierIn], Meta(max_length=20)] = msgspec.field(default_factory=list)


class ProductUpdate(Input):
    category_id: Id | UnsetType = UNSET
    short_name: ShortName | UnsetType = UNSET
    price_pence: Pence | UnsetType = UNSET
    vat_kind: VatKindName | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    allergens: Annotated[list[Allergen], Meta(max_length=14)] | UnsetType = UNSET
    pictogram: Pictogram | UnsetType | None = UNSET
    available: bool | UnsetType = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    stock_count: StockCount | UnsetType | None = UNSET
    low_stock_at: StockCount | UnsetType | None = UNSET
    pay_it_forward_kind: PifKindName | UnsetType | None = UNSET
    # Given: the product's modifiers become exactly these (ones left out are retired, not deleted).
    modifiers: Annotated[list[ModifierIn], Meta(max_length=20)] | UnsetType = UNSET


class ModifierOut(Struct):
    id: int
    name: str
    price_pence: int


class ProductOut(Struct):
    id: int
    category_id: int
    short_name: str
    description: str
    price_pence: int
    vat_kind: str
    allergens: list[str]
    allergen_labels: list[str]
    picture_url: str | None
    pictogram: str | None
    pictogram_url: str | None
    available: bool
    sort_order: int
    stock_count: int | None
    low_stock_at: int | None
    low_stock: bool
    pay_it_forward_kind: str | None
    modifiers: list[ModifierOut]


# The names the till's pages use (rooms has its own CategoryIn/CategoryOut: the API document keeps
# the café's apart by the Menu prefix).
CategoryIn = MenuCategoryIn
CategoryUpdate = MenuCategoryUpdate
CategoryOut = MenuCategoryOut


class MenuCategory(Struct):
    id: int
    name: str
    products: list[ProductOut]


class DiscountIn(Input):
    code: DiscountCode
    label: Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE_PATTERN)]
    percent_bp: Annotated[int, Meta(ge=0, le=10_000)]
    active: bool = True


class DiscountUpdate(Input):
    label: Annotated[str, Meta(min_length=1, max_length=100, pattern=ONE_LINE_PATTERN)] | UnsetType = UNSET
    percent_bp: Annotated[int, Meta(ge=0, le=10_000)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class DiscountOut(Struct):
    code: str
    label: str
    percent_bp: int
    active: bool


class PoolKind(Struct):
    units: int
    value_pence: int


class PoolOut(Struct):
    coffee: PoolKind
    meal: PoolKind


class MenuOut(Struct):
    categories: list[MenuCategory]
    discounts: list[DiscountOut]
    pay_it_forward: PoolOut


# -- tills and sessions ---------------------------------------------------------------------------
class TillIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=60, pattern=ONE_LINE_PATTERN)]


class TillOut(Struct):
    id: int
    name: str
    open_session_id: int | None


class SessionOpen(Input):
    till_id: Id
    float_pence: Pence


class SessionClose(Input):
    # Notes and coins counted, by denomination in pence ("5000": 2 is two £50 notes).
    counted: dict[str, Annotated[int, Meta(ge=0, le=100_000)]]
    variance_reason: Annotated[str, Meta(max_length=1000, pattern=MULTI_LINE_PATTERN)] = ""


class SessionOut(Struct):
    id: int
    till_id: int
    till_name: str
    status: str
    opened_at: datetime
    opened_by: str
    float_pence: int
    closed_at: datetime | None
    closed_by: str
    counted: dict[str, int] | None
    counted_cash_pence: int | None
    expected_cash_pence: int | None
    variance_pence: int | None
    variance_reason: str
    amended_at: datetime | None


class VatRateSummary(Struct):
    vat_rate_bp: int
    gross_pence: int
    net_pence: int
    vat_pence: int


class SessionReport(Struct):
    """X report while the session is open, Z report once it is closed."""

    kind: Literal["X", "Z"]
    session: SessionOut
    sales: int
    voids: int
    voided_pence: int
    gross_pence: int  # sales' lines, after discounts (gifts are not takings)
    net_pence: int
    vat_pence: int
    vat_by_rate: list[VatRateSummary]
    discounts_pence: int
    discounts_by_code: dict[str, int]
    cash_pence: int  # cash kept from sales (tendered less change)
    card_pence: int
    pay_it_forward_redeemed_pence: int
    pay_it_forward_redeemed_units: int
    pay_it_forward_given_pence: int
    pay_it_forward_given_units: int
    refunds: int
    refunds_pence: int
    refunds_cash_pence: int
    refunds_card_pence: int
    refunds_vat_pence: int
    expected_cash_pence: int
    counted_cash_pence: int | None
    variance_pence: int | None
    variance_reason: str
    late_sales: int


# -- sales ----------------------------------------------------------------------------------------
class SaleLineIn(Input):
    product_id: Id
    quantity: Quantity
    modifier_ids: Annotated[list[Id], Meta(max_length=10)] = msgspec.field(default_factory=list)
    eat_in: bool = False
    # Paid for from the pay-it-forward pool (a product that can be redeemed). When no line says so
    # and a pay_it_forward tender is given, every redeemable line is taken from the pool.
    from_pool: bool = False


class GiftIn(Input):
    kind: PifKindName
    units: Annotated[int, Meta(ge=1, le=50)]


class TenderIn(Input):
    method: Literal["cash", "card", "pay_it_forward"]
    amount_pence: Annotated[int, Meta(ge=1, le=10_000_000)]
    tendered_pence: Pence | None = None  # cash handed over (change is given from it)
    reference: Annotated[str, Meta(max_length=64, pattern=ONE_LINE_PATTERN)] = ""  # card terminal's


class SaleIn(Input):
    uuid: uuid.UUID
    session_id: Id
    till_id: Id
    rung_at: datetime
    lines: Annotated[list[SaleLineIn], Meta(max_length=100)] = msgspec.field(default_factory=list)
    discount_code: DiscountCode | None = None
    gifts: Annotated[list[GiftIn], Meta(max_length=4)] = msgspec.field(default_factory=list)
    tenders: Annotated[list[TenderIn], Meta(max_length=6)] = msgspec.field(default_factory=list)


class SaleLineOut(Struct):
    id: int
    product_id: int
    short_name: str
    quantity: int
    eat_in: bool
    modifiers: list[dict[str, Any]]
    unit_price_pence: int
    discount_pence: int
    line_total_pence: int
    vat_rate_bp: int
    vat_pence: int
    net_pence: int
    refunded_quantity: int = 0


class TenderOut(Struct):
    method: str
    amount_pence: int
    tendered_pence: int | None
    change_pence: int
    reference: str


class GiftOut(Struct):
    kind: str
    units: int
    value_pence: int


class ReceiptRate(Struct):
    vat_rate_bp: int
    gross_pence: int
    vat_pence: int


class ReceiptLine(Struct):
    description: str
    quantity: int
    total_pence: int
    vat_rate_bp: int


class Receipt(Struct):
    """A simplified VAT invoice (sales up to £250): supplier, time of supply, what was sold, the
    total including VAT and, for each rate, the gross and the rate."""

    supplier_name: str
    supplier_address: list[str]
    vat_number: str | None
    number: int
    time_of_supply: datetime
    till: str
    lines: list[ReceiptLine]
    discount_label: str
    discount_pence: int
    gifts_pence: int
    total_pence: int
    vat_pence: int
    vat_by_rate: list[ReceiptRate]
    tenders: list[TenderOut]
    change_pence: int
    simplified: bool


class RefundLineOut(Struct):
    line_id: int
    quantity: int
    amount_pence: int
    vat_pence: int


class RefundOut(Struct):
    id: int
    sale_uuid: str
    session_id: int
    method: str
    amount_pence: int
    vat_pence: int
    reason: str
    at: datetime
    by: str
    lines: list[RefundLineOut]


class SaleOut(Struct):
    uuid: str
    id: int
    number: int
    session_id: int
    till_id: int
    rung_at: datetime
    recorded_at: datetime
    status: str
    total_pence: int
    vat_pence: int
    discount_code: str | None
    discount_pence: int
    gift_pence: int
    change_pence: int
    late: bool
    lines: list[SaleLineOut]
    tenders: list[TenderOut]
    gifts: list[GiftOut]
    receipt: Receipt
    refunds: list[RefundOut] = msgspec.field(default_factory=list)
    void_reason: str = ""


class SaleSummary(Struct):
    uuid: str
    id: int
    number: int
    session_id: int
    rung_at: datetime
    status: str
    total_pence: int
    vat_pence: int
    late: bool


class RefundLineIn(Input):
    line_id: Id
    quantity: Quantity


class RefundIn(Input):
    reason: Reason
    method: Literal["cash", "card"]
    lines: Annotated[list[RefundLineIn], Meta(max_length=100)] = msgspec.field(default_factory=list)
    all: bool = False


class VoidIn(Input):
    reason: Reason


# -- reports --------------------------------------------------------------------------------------
class CafeTrading(Struct):
    """The café's trading over a range of building-local days (the trustees' report asks for it)."""

    first: date
    last: date
    takings_gross_pence: int
    takings_net_pence: int
    takings_vat_pence: int
    transactions: int
    average_basket_pence: int
    vat_by_rate: list[tuple[int, int, int]]  # (vat_rate_bp, net_pence, vat_pence)
    top_products: list[tuple[str, int, int]]  # (name, quantity, gross_pence)
    pif_given_units: int
    pif_given_pence: int
    pif_redeemed_units: int
    pif_redeemed_pence: int
    variances: list[tuple[int, str, date, int, str]]  # (session_id, till, closed_on, pence, reason)
    by_month: list[tuple[date, int, int]]  # (month, gross_pence, transactions)


class VatRateOut(Struct):
    vat_rate_bp: int
    net_pence: int
    vat_pence: int


class TopProductOut(Struct):
    name: str
    quantity: int
    gross_pence: int


class VarianceOut(Struct):
    session_id: int
    till: str
    closed_on: date
    variance_pence: int
    reason: str


class MonthOut(Struct):
    month: date
    gross_pence: int
    transactions: int


class CafeTradingOut(Struct):
    """:class:`CafeTrading` as the API answers it: named fields rather than tuples."""

    first: date
    last: date
    takings_gross_pence: int
    takings_net_pence: int
    takings_vat_pence: int
    transactions: int
    average_basket_pence: int
    vat_by_rate: list[VatRateOut]
    top_products: list[TopProductOut]
    pif_given_units: int
    pif_given_pence: int
    pif_redeemed_units: int
    pif_redeemed_pence: int
    variances: list[VarianceOut]
    by_month: list[MonthOut]

    @classmethod
    def of(cls, trading: CafeTrading) -> CafeTradingOut:
        return cls(
            first=trading.first,
            last=trading.last,
            takings_gross_pence=trading.takings_gross_pence,
            takings_net_pence=trading.takings_net_pence,
            takings_vat_pence=trading.takings_vat_pence,
            transactions=trading.transactions,
            average_basket_pence=trading.average_basket_pence,
            vat_by_rate=[VatRateOut(*row) for row in trading.vat_by_rate],
            top_products=[TopProductOut(*row) for row in trading.top_products],
            pif_given_units=trading.pif_given_units,
            pif_given_pence=trading.pif_given_pence,
            pif_redeemed_units=trading.pif_redeemed_units,
            pif_redeemed_pence=trading.pif_redeemed_pence,
            variances=[VarianceOut(*row) for row in trading.variances],
            by_month=[MonthOut(*row) for row in trading.by_month],
        )
