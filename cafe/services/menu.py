"""The menu: categories, products (allergens, picture or pictogram, modifiers, availability, stock),
discounts, and the one call the till loads (the menu with the pay-it-forward pool)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from msgspec import UNSET
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import (
    ALLERGENS,
    CafeCategory,
    CafeDiscount,
    CafeModifier,
    CafeProduct,
    PifKind,
    PifMovement,
    Sale,
    SaleStatus,
)
from cafe.schemas import (
    DiscountIn,
    DiscountOut,
    DiscountUpdate,
    MenuCategory,
    MenuCategoryIn,
    MenuCategoryOut,
    MenuCategoryUpdate,
    MenuOut,
    ModifierIn,
    ModifierOut,
    PoolKind,
    PoolOut,
    ProductIn,
    ProductOut,
    ProductUpdate,
)
from cafe.services.pictures import pictogram_exists, pictogram_url
from hub.auth import Identity
from hub.config import Settings
from hub.db import is_valid_id
from hub.errors import Conflict, InvalidInput, NotFound
from hub.services import audit


def category_out(category: CafeCategory) -> MenuCategoryOut:
    return MenuCategoryOut(
        id=category.id, name=category.name, sort_order=category.sort_order, active=category.active
    )


def product_out(product: CafeProduct, modifiers: list[CafeModifier]) -> ProductOut:
    allergens = [code for code in ALLERGENS if code in (product.allergens or [])]
    low = (
        product.stock_count is not None
        and product.low_stock_at is not None
        and product.stock_count <= product.low_stock_at
    )
    return ProductOut(
        id=product.id,
        category_id=product.category_id,
        short_name=product.short_name,
        description=product.description,
        price_pence=product.price_pence,
        vat_kind=product.vat_kind,
        allergens=allergens,
        allergen_labels=[ALLERGENS[code] for code in allergens],
        picture_url=f"/api/v1/cafe/products/{product.id}/picture" if product.picture_stored_name else None,
        pictogram=product.pictogram,
        pictogram_url=pictogram_url(product.pictogram),
        available=product.available,
        sort_order=product.sort_order,
        stock_count=product.stock_count,
        low_stock_at=product.low_stock_at,
        low_stock=low,
        pay_it_forward_kind=product.pay_it_forward_kind,
        modifiers=[
            ModifierOut(id=m.id, name=m.name, price_pence=m.price_pence) for m in modifiers if m.active
        ],
    )


def discount_out(discount: CafeDiscount) -> DiscountOut:
    return DiscountOut(
        code=discount.code, label=discount.label, percent_bp=discount.percent_bp, active=discount.active
    )


# -- categories -----------------------------------------------------------------------------------
async def list_categories(db: AsyncSession) -> list[MenuCategoryOut]:
    rows = (await db.scalars(select(CafeCategory).order_by(CafeCategory.sort_order, CafeCategory.id))).all()
    return [category_out(c) for c in rows]


async def get_category(db: AsyncSession, category_id: int) -> CafeCategory:
    category = await db.get(CafeCategory, category_id) if is_valid_id(category_id) else None
    if category is None:
        raise NotFound("That category was not found.")
    return category


async def create_category(db: AsyncSession, identity: Identity, data: MenuCategoryIn) -> MenuCategoryOut:
    category = CafeCategory(name=data.name, sort_order=data.sort_order, active=data.active)
    db.add(category)
    await db.flush()
    audit.record(db, identity, "create", "cafe_category", category.id, summary=f"Menu category {data.name}")
    await db.commit()
    return category_out(category)


async def update_category(
    db: AsyncSession, identity: Identity, category_id: int, data: MenuCategoryUpdate
) -> MenuCategoryOut:
    category = await get_category(db, category_id)
    before = category_out(category)
    for field in ("name", "sort_order", "active"):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(category, field, value)
    after = category_out(category)
    audit.record(
        db,
        identity,
        "update",
        "cafe_category",
        category.id,
        summary=f"Menu category {category.name}",
        changes=audit.diff(_fields(before), _fields(after)),
    )
    await db.commit()
    return after


def _fields(value: Any) -> dict[str, Any]:
    plain: dict[str, Any] = msgspec.to_builtins(value)
    return plain


# -- products -------------------------------------------------------------------------------------
async def _modifiers_of(db: AsyncSession, product_ids: list[int]) -> dict[int, list[CafeModifier]]:
    found: dict[int, list[CafeModifier]] = defaultdict(list)
    if not product_ids:
        return found
    rows = await db.scalars(
        select(CafeModifier).where(CafeModifier.product_id.in_(product_ids)).order_by(CafeModifier.id)
    )
    for modifier in rows:
        found[modifier.product_id].append(modifier)
    return found


async def list_products(db: AsyncSession, *, category_id: int | None = None) -> list[ProductOut]:
    query = select(CafeProduct).order_by(CafeProduct.category_id, CafeProduct.sort_order, CafeProduct.id)
    if category_id is not None:
        query = query.where(CafeProduct.category_id == category_id)
    products = list((await db.scalars(query)).all())
    modifiers = await _modifiers_of(db, [p.id for p in products])
    return [product_out(p, modifiers[p.id]) for p in products]


async def get_product(db: AsyncSession, product_id: int) -> CafeProduct:
    product = await db.get(CafeProduct, product_id) if is_valid_id(product_id) else None
    if product is None:
        raise NotFound("That product was not found.")
    return product


async def product_detail(db: AsyncSession, product_id: int) -> ProductOut:
    product = await get_product(db, product_id)
    return product_out(product, (await _modifiers_of(db, [product.id]))[product.id])


async def _check_category(db: AsyncSession, category_id: int) -> None:
    if await db.get(CafeCategory, category_id) is None:
        raise InvalidInput("There is no such category.", field="category_id")


def _check_stock(stock_count: int | None, low_stock_at: int | None) -> None:
    if low_stock_at is not None and stock_count is None:
        raise InvalidInput("A low-stock warning needs a stock count.", field="low_stock_at")


def _check_pictogram(name: str | None) -> None:
    if name is not None and not pictogram_exists(name):
        raise InvalidInput("There is no pictogram of that name.", field="pictogram")


async def create_product(db: AsyncSession, identity: Identity, data: ProductIn) -> ProductOut:
    """A new product. Its category and pictogram must exist; a low-stock level needs a count."""
    await _check_category(db, data.category_id)
    _check_pictogram(data.pictogram)
    _check_stock(data.stock_count, data.low_stock_at)
    product = CafeProduct(
        category_id=data.category_id,
        short_name=data.short_name,
        description=data.description,
        price_pence=data.price_pence,
        vat_kind=data.vat_kind,
        allergens=sorted(set(data.allergens)),
        pictogram=data.pictogram,
        available=data.available,
        sort_order=data.sort_order,
        stock_count=data.stock_count,
        low_stock_at=data.low_stock_at,
        pay_it_forward_kind=data.pay_it_forward_kind,
    )
    db.add(product)
    await db.flush()
    for modifier in data.modifiers:
        db.add(CafeModifier(product_id=product.id, name=modifier.name, price_pence=modifier.price_pence))
    await db.flush()
    out = await product_detail(db, product.id)
    audit.record(
        db, identity, "create", "cafe_product", product.id, summary=f"Menu item {product.short_name}"
    )
    await db.commit()
    return out


async def _replace_modifiers(db: AsyncSession, product: CafeProduct, wanted: list[ModifierIn]) -> None:
    existing = {m.id: m for m in (await _modifiers_of(db, [product.id]))[product.id]}
    kept: set[int] = set()
    for index, item in enumerate(wanted):
        if item.id is not None:
            modifier = existing.get(item.id)
            if modifier is None:
                raise InvalidInput(
                    "That modifier is not one of this product's.", field=f"modifiers[{index}].id"
                )
            modifier.name, modifier.price_pence, modifier.active = item.name, item.price_pence, True
            kept.add(modifier.id)
        else:
            db.add(CafeModifier(product_id=product.id, name=item.name, price_pence=item.price_pence))
    for modifier_id, modifier in existing.items():
        if modifier_id not in kept:
            modifier.active = False  # retired, never deleted: old sale lines name it


async def update_product(
    db: AsyncSession, identity: Identity, product_id: int, data: ProductUpdate
) -> ProductOut:
    product = await get_product(db, product_id)
    before = _fields(await product_detail(db, product.id))
    if data.category_id is not UNSET:
        await _check_category(db, data.category_id)
    if data.pictogram is not UNSET:
        _check_pictogram(data.pictogram)
    for field in (
        "category_id",
        "short_name",
        "description",
        "price_pence",
        "vat_kind",
        "pictogram",
        "available",
        "sort_order",
        "stock_count",
        "low_stock_at",
        "pay_it_forward_kind",
    ):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(product, field, value)
    if data.allergens is not UNSET:
        product.allergens = sorted(set(data.allergens))
    _check_stock(product.stock_count, product.low_stock_at)
    if data.modifiers is not UNSET:
        await _replace_modifiers(db, product, data.modifiers)
    await db.flush()
    out = await product_detail(db, product.id)
    audit.record(
        db,
        identity,
        "update",
        "cafe_product",
        product.id,
        summary=f"Menu item {product.short_name}",
        changes=audit.diff(before, _fields(out)),
    )
    await db.commit()
    return out


async def set_picture(db: AsyncSession, identity: Identity, product_id: int, stored_name: str) -> ProductOut:
    product = await get_product(db, product_id)
    old = product.picture_stored_name
    product.picture_stored_name = stored_name
    audit.record(
        db,
        identity,
        "update",
        "cafe_product",
        product.id,
        summary=f"New picture for {product.short_name}",
        changes={"picture_stored_name": [old, stored_name]},
    )
    await db.flush()
    out = await product_detail(db, product.id)
    await db.commit()
    return out


# -- discounts ------------------------------------------------------------------------------------
async def list_discounts(db: AsyncSession, *, active_only: bool = False) -> list[DiscountOut]:
    query = select(CafeDiscount).order_by(CafeDiscount.label)
    if active_only:
        query = query.where(CafeDiscount.active.is_(True))
    return [discount_out(d) for d in (await db.scalars(query)).all()]


async def create_discount(db: AsyncSession, identity: Identity, data: DiscountIn) -> DiscountOut:
    if await db.get(CafeDiscount, data.code) is not None:
        raise Conflict("A discount with that code exists already.", field="code")
    discount = CafeDiscount(code=data.code, label=data.label, percent_bp=data.percent_bp, active=data.active)
    db.add(discount)
    audit.record(db, identity, "create", "cafe_discount", data.code, summary=f"Discount {data.label}")
    await db.commit()
    return discount_out(discount)


async def update_discount(
    db: AsyncSession, identity: Identity, code: str, data: DiscountUpdate
) -> DiscountOut:
    discount = await db.get(CafeDiscount, code)
    if discount is None:
        raise NotFound("That discount was not found.")
    before = _fields(discount_out(discount))
    for field in ("label", "percent_bp", "active"):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(discount, field, value)
    after = discount_out(discount)
    audit.record(
        db, identity, "update", "cafe_discount", code, summary=f"Discount {discount.label}",
        changes=audit.diff(before, _fields(after)),
    )  # fmt: skip
    await db.commit()
    return after


# -- the pay-it-forward pool and the whole menu ---------------------------------------------------
async def pool(db: AsyncSession, *, for_update: bool = False) -> dict[str, tuple[int, int]]:
    """What the pay-it-forward pool holds, by kind: (units, value in pence). Voided sales' gifts
    and redemptions do not count."""
    query = (
        select(PifMovement.kind, func.sum(PifMovement.units), func.sum(PifMovement.value_pence))
        .join(Sale, Sale.id == PifMovement.sale_id)
        .where(Sale.status == SaleStatus.COMPLETED.value)
        .group_by(PifMovement.kind)
    )
    held = {kind.value: (0, 0) for kind in PifKind}
    for kind, units, value in (await db.execute(query)).all():
        held[kind] = (int(units or 0), int(value or 0))
    return held


def pool_out(held: dict[str, tuple[int, int]]) -> PoolOut:
    return PoolOut(
        coffee=PoolKind(units=held["coffee"][0], value_pence=held["coffee"][1]),
        meal=PoolKind(units=held["meal"][0], value_pence=held["meal"][1]),
    )


async def gift_prices(db: AsyncSession) -> dict[str, int]:
    """What one unit given into the pool costs, by kind: the dearest product that can be redeemed
    for it, so that a unit given always covers a unit taken."""
    rows = await db.execute(
        select(CafeProduct.pay_it_forward_kind, func.max(CafeProduct.price_pence))
        .where(CafeProduct.pay_it_forward_kind.is_not(None))
        .group_by(CafeProduct.pay_it_forward_kind)
    )
    return {kind: int(price) for kind, price in rows.all() if kind}


async def menu(db: AsyncSession, settings: Settings) -> MenuOut:
    """Everything the till loads in one call: active categories with their products (unavailable
    ones too, marked, so the till can show them greyed), active discounts, the pool."""
    categories = list(
        (
            await db.scalars(
                select(CafeCategory)
                .where(CafeCategory.active.is_(True))
                .order_by(CafeCategory.sort_order, CafeCategory.id)
            )
        ).all()
    )
    products = list(
        (
            await db.scalars(
                select(CafeProduct)
                .where(CafeProduct.category_id.in_([c.id for c in categories]))
                .order_by(
                    CafeProduct.sort_order,
                    case((CafeProduct.available.is_(True), 0), else_=1),
                    CafeProduct.id,
                )
            )
        ).all()
    )
    modifiers = await _modifiers_of(db, [p.id for p in products])
    by_category: dict[int, list[ProductOut]] = defaultdict(list)
    for product in products:
        by_category[product.category_id].append(product_out(product, modifiers[product.id]))
    return MenuOut(
        categories=[MenuCategory(id=c.id, name=c.name, products=by_category[c.id]) for c in categories],
        discounts=await list_discounts(db, active_only=True),
        pay_it_forward=pool_out(await pool(db)),
    )
