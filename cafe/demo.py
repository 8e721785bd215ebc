"""The café's part of the demo hub: a real-feeling menu (coffee, tea, soup of the day, toasties,
cakes, children's meals) with allergens and pictograms, two tills ("Counter" and "Window"), a month
of closed sessions with their sales (some cash-ups with a variance and its reason, some
pay-it-forward gifts and redemptions), their takings in the ledger, and today's session open on
the Counter so the till works at once for cafe@hub.test.

Sales are priced by the same rules as the till's (``cafe.services.sales``) and written in bulk
(a few statements per table), so the month seeds in well under a second."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.models import (
    CafeCategory,
    CafeDiscount,
    CafeModifier,
    CafeProduct,
    CafeTill,
    PifMovement,
    Sale,
    SaleLine,
    Tender,
    TillSession,
)
from cafe.services import takings as takings_service
from cafe.services.sales import vat_in_gross, vat_rate_bp
from hub.billing import JournalLine, LedgerAccount, post_journal
from hub.config import Settings
from hub.db import Base
from hub.money import proportion_pence

# name, category, price, vat kind, allergens, pictogram, description, extra
MENU: list[tuple[str, str, int, str, list[str], str, str, dict[str, Any]]] = [
    (
        "Coffee",
        "Hot drinks",
        250,
        "hot",
        ["milk"],
        "coffee",
        "A mug of coffee, with milk if you like.",
        {"pay_it_forward_kind": "coffee", "modifiers": [("Oat milk", 30), ("Extra shot", 50), ("Decaf", 0)]},
    ),
    (
        "Latte",
        "Hot drinks",
        295,
        "hot",
        ["milk"],
        "coffee-outline",
        "A tall milky coffee.",
        {"modifiers": [("Oat milk", 30), ("Extra shot", 50), ("Syrup", 40)]},
    ),
    (
        "Tea",
        "Hot drinks",
        180,
        "hot",
        ["milk"],
        "tea",
        "A pot of tea for one.",
        {"pay_it_forward_kind": "coffee", "modifiers": [("Oat milk", 30), ("Lemon", 0)]},
    ),
    (
        "Hot chocolate",
        "Hot drinks",
        280,
        "hot",
        ["milk", "soya"],
        "cup",
        "Hot chocolate with cream.",
        {"modifiers": [("Marshmallows", 30)]},
    ),
    ("Squash", "Cold drinks", 90, "standard", [], "cup-water", "A glass of orange squash.", {}),
    (
        "Bottled water",
        "Cold drinks",
        100,
        "standard",
        [],
        "bottle-soda-classic-outline",
        "A bottle of still water.",
        {},
    ),
    (
        "Soup of the day",
        "Hot food",
        395,
        "hot",
        ["celery", "cereals_gluten", "milk"],
        "pot-steam",
        "Today's soup with a bread roll.",
        {"pay_it_forward_kind": "meal"},
    ),
    (
        "Cheese toastie",
        "Hot food",
        450,
        "hot",
        ["cereals_gluten", "milk"],
        "bread-slice",
        "Cheese on toasted bread, hot.",
        {"pay_it_forward_kind": "meal", "modifiers": [("Add ham", 60), ("Add tomato", 20)]},
    ),
    (
        "Beans on toast",
        "Hot food",
        375,
        "hot",
        ["cereals_gluten", "milk"],
        "toaster",
        "Baked beans on two slices of toast.",
        {"pay_it_forward_kind": "meal", "modifiers": [("Add cheese", 40)]},
    ),
    (
        "Egg sandwich",
        "Sandwiches",
        350,
        "cold_food",
        ["cereals_gluten", "eggs", "mustard"],
        "baguette",
        "Egg mayonnaise sandwich, cold.",
        {},
    ),
    (
        "Ham salad roll",
        "Sandwiches",
        375,
        "cold_food",
        ["cereals_gluten", "mustard", "sulphites"],
        "food-croissant",
        "A roll with ham and salad, cold.",
        {},
    ),
    (
        "Scone",
        "Cakes",
        225,
        "cold_food",
        ["cereals_gluten", "eggs", "milk"],
        "muffin",
        "A fruit scone with butter and jam.",
        {"stock_count": 18, "low_stock_at": 4},
    ),
    (
        "Chocolate cake",
        "Cakes",
        275,
        "cold_food",
        ["cereals_gluten", "eggs", "milk", "soya"],
        "cake-variant",
        "A slice of chocolate cake.",
        {"stock_count": 12, "low_stock_at": 3},
    ),
    (
        "Flapjack",
        "Cakes",
        195,
        "cold_food",
        ["cereals_gluten", "milk"],
        "cookie",
        "A chewy oat flapjack.",
        {"stock_count": 3, "low_stock_at": 4},
    ),
    (
        "Carrot cake",
        "Cakes",
        275,
        "cold_food",
        ["cereals_gluten", "eggs", "milk", "tree_nuts"],
        "cupcake",
        "A slice of carrot cake with walnuts.",
        {"available": False},
    ),
    (
        "Kids' lunch box",
        "Children's meals",
        325,
        "cold_food",
        ["cereals_gluten", "milk"],
        "food-apple",
        "A small sandwich, fruit and a drink.",
        {"pay_it_forward_kind": "meal"},
    ),
    (
        "Kids' beans on toast",
        "Children's meals",
        250,
        "hot",
        ["cereals_gluten", "milk"],
        "baby-face-outline",
        "One slice of toast with beans.",
        {"pay_it_forward_kind": "meal"},
    ),
]

CATEGORIES = ["Hot drinks", "Cold drinks", "Hot food", "Sandwiches", "Cakes", "Children's meals"]

DISCOUNTS = [
    ("volunteer", "Volunteer", 5_000),
    ("staff", "Hub staff", 2_500),
    ("concession", "Concession", 2_000),
]

VARIANCE_REASONS = [
    (-50, "Short 50p: a 50p coin given as change for a £1 by mistake"),
    (20, "Over 20p: a customer left their change for the tip jar"),
    (-200, "Short £2: a £2 coin found under the drawer next morning"),
]


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def seed(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    rng = random.Random(14)  # noqa: S311 - the same demo every time, not a secret
    zone = settings.zone
    today = settings.today()

    categories: dict[str, int] = {}
    for order, name in enumerate(CATEGORIES):
        category = CafeCategory(name=name, sort_order=order, active=True)
        db.add(category)
        await db.flush()
        categories[name] = category.id
    products: dict[str, CafeProduct] = {}
    modifiers: dict[str, list[CafeModifier]] = {}
    for order, (name, category_name, price, vat_kind, allergens, pictogram, description, extra) in enumerate(
        MENU
    ):
        product = CafeProduct(
            category_id=categories[category_name],
            short_name=name,
            description=description,
            price_pence=price,
            vat_kind=vat_kind,
            allergens=sorted(allergens),
            pictogram=pictogram,
            available=extra.get("available", True),
            sort_order=order,
            stock_count=extra.get("stock_count"),
            low_stock_at=extra.get("low_stock_at"),
            pay_it_forward_kind=extra.get("pay_it_forward_kind"),
        )
        db.add(product)
        await db.flush()
        products[name] = product
        modifiers[name] = []
        for modifier_name, modifier_price in extra.get("modifiers", []):
            modifier = CafeModifier(
                product_id=product.id, name=modifier_name, price_pence=modifier_price, active=True
            )
            db.add(modifier)
            modifiers[name].append(modifier)
    for code, label, percent in DISCOUNTS:
        db.add(CafeDiscount(code=code, label=label, percent_bp=percent, active=True))
    tills = [CafeTill(name="Counter"), CafeTill(name="Window")]
    db.add_all(tills)
    await db.flush()
    counter, window = tills

    gift_price = {
        kind: max(p.price_pence for p in products.values() if p.pay_it_forward_kind == kind)
        for kind in ("coffee", "meal")
    }
    sellable = [p for p in products.values() if p.available]
    weights = [
        {"Coffee": 30, "Tea": 22, "Latte": 10, "Soup of the day": 9, "Cheese toastie": 9, "Scone": 8}.get(
            p.short_name, 4
        )
        for p in sellable
    ]

    # The month's sessions: the Counter every day but Sunday, the Window on weekday lunchtimes.
    sessions: list[dict[str, Any]] = []
    for days_ago in range(30, 0, -1):
        day = today - timedelta(days=days_ago)
        if day.weekday() == 6:
            continue
        sessions.append(
            {
                "till": counter,
                "day": day,
                "open": time(8, 30),
                "close": time(16, 0),
                "sales": rng.randint(45, 70),
            }
        )
        if day.weekday() < 5:
            sessions.append(
                {
                    "till": window,
                    "day": day,
                    "open": time(11, 45),
                    "close": time(14, 15),
                    "sales": rng.randint(12, 25),
                }
            )
    open_today = {"till": counter, "day": today, "open": time(8, 30), "close": None, "sales": 6}

    pool = {"coffee": [0, 0], "meal": [0, 0]}
    session_rows: list[TillSession] = []
    sale_rows: list[dict[str, Any]] = []
    lines_for: list[list[dict[str, Any]]] = []
    tenders_for: list[list[dict[str, Any]]] = []
    movements_for: list[list[dict[str, Any]]] = []
    for plan in [*sessions, open_today]:
        opened_at = datetime.combine(plan["day"], plan["open"], zone)
        if plan["close"] is None:
            # Today's session opened at half past eight, or a few minutes ago if it is earlier.
            opened_at = min(opened_at, datetime.now(zone) - timedelta(minutes=20))
        closing = plan["close"] or (datetime.now(zone).time() if plan["day"] == today else time(16, 0))
        closed_at = datetime.combine(plan["day"], closing, zone)
        if closed_at <= opened_at:
            closed_at = opened_at + timedelta(minutes=30)
        session = TillSession(
            till_id=plan["till"].id,
            status="closed" if plan["close"] else "open",
            opened_at=opened_at,
            opened_by_label="cafe.supervisor@hub.test",
            float_pence=10_000 if plan["till"] is counter else 5_000,
        )
        if plan["close"]:
            session.closed_at = closed_at
            session.closed_by_label = "cafe.supervisor@hub.test"
        db.add(session)
        session_rows.append(session)
        span = (closed_at - opened_at).total_seconds()
        for n in range(plan["sales"] if plan["close"] else min(plan["sales"], int(span // 600) + 1)):
            rung_at = opened_at + timedelta(seconds=span * (n + rng.random()) / (plan["sales"] + 1))
            chosen = rng.choices(sellable, weights, k=rng.choice([1, 1, 2, 2, 2, 3, 4]))
            discount = rng.choices([None, "volunteer", "staff", "concession"], [85, 6, 4, 5])[0]
            percent = {"volunteer": 5_000, "staff": 2_500, "concession": 2_000}.get(discount or "", 0)
            eat_in = rng.random() < 0.6
            lines: list[dict[str, Any]] = []
            redeem = rng.random() < 0.04 and plan["close"] is not None
            redeemed: dict[str, list[int]] = {}
            for position, product in enumerate(chosen):
                quantity = 2 if rng.random() < 0.15 else 1
                options = [m for m in modifiers[product.short_name] if rng.random() < 0.15]
                unit = product.price_pence + sum(m.price_pence for m in options)
                gross = unit * quantity
                off = proportion_pence(gross, percent, 10_000) if percent else 0
                total = gross - off
                rate = vat_rate_bp(product.vat_kind, eat_in)
                vat = vat_in_gross(total, rate)
                kind = product.pay_it_forward_kind
                pooled = bool(redeem and kind and pool[kind][0] >= quantity and pool[kind][1] >= total)
                if pooled and kind:
                    pool[kind][0] -= quantity
                    pool[kind][1] -= total
                    entry = redeemed.setdefault(kind, [0, 0])
                    entry[0] += quantity
                    entry[1] += total
                lines.append(
                    {
                        "position": position,
                        "product_id": product.id,
                        "short_name": product.short_name,
                        "quantity": quantity,
                        "eat_in": eat_in,
                        "modifiers": [
                            {"id": m.id, "name": m.name, "price_pence": m.price_pence} for m in options
                        ],
                        "unit_price_pence": unit,
                        "discount_pence": off,
                        "line_total_pence": total,
                        "vat_rate_bp": rate,
                        "vat_pence": vat,
                        "net_pence": total - vat,
                        "pay_it_forward_kind": kind if pooled else None,
                    }
                )
            movements = [
                {"kind": kind, "units": -units, "value_pence": -value}
                for kind, (units, value) in sorted(redeemed.items())
            ]
            gifts = 0
            if plan["close"] and rng.random() < 0.05:
                kind = rng.choice(["coffee", "coffee", "meal"])
                units = rng.choice([1, 1, 2])
                gifts = units * gift_price[kind]
                pool[kind][0] += units
                pool[kind][1] += gifts
                movements.append({"kind": kind, "units": units, "value_pence": gifts})
            lines_total = sum(int(line["line_total_pence"]) for line in lines)
            from_pool = sum(value for _, value in redeemed.values())
            due = lines_total + gifts - from_pool
            tenders = []
            change = 0
            if from_pool:
                tenders.append(
                    {
                        "method": "pay_it_forward",
                        "amount_pence": from_pool,
                        "tendered_pence": None,
                        "change_pence": 0,
                        "reference": "",
                    }
                )
            if due:
                if rng.random() < 0.55:
                    notes = [note for note in (500, 1_000, 2_000, 5_000) if note >= due]
                    handed = notes[0] if notes and rng.random() < 0.7 else due
                    change = handed - due
                    tenders.append(
                        {
                            "method": "cash",
                            "amount_pence": due,
                            "tendered_pence": handed,
                            "change_pence": change,
                            "reference": "",
                        }
                    )
                else:
                    tenders.append(
                        {
                            "method": "card",
                            "amount_pence": due,
                            "tendered_pence": None,
                            "change_pence": 0,
                            "reference": f"AUTH {rng.randint(100000, 999999)}",
                        }
                    )
            sale_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            sale_rows.append(
                {
                    "session_index": len(session_rows) - 1,
                    "uuid": sale_uuid,
                    "till_id": plan["till"].id,
                    "rung_at": rung_at,
                    "recorded_at": rung_at + timedelta(seconds=1),
                    "content_hash": _hash(sale_uuid),
                    "total_pence": lines_total + gifts,
                    "vat_pence": sum(line["vat_pence"] for line in lines),
                    "discount_code": discount,
                    "discount_label": dict((c, label) for c, label, _ in DISCOUNTS).get(discount or "", ""),
                    "discount_pence": sum(line["discount_pence"] for line in lines),
                    "gift_pence": gifts,
                    "change_pence": change,
                    "status": "completed",
                    "by_label": "cafe@hub.test",
                    "late": False,
                    "void_reason": "",
                }
            )
            lines_for.append(lines)
            tenders_for.append(tenders)
            movements_for.append(movements)
    await db.flush()

    for row in sale_rows:
        row["session_id"] = session_rows[row.pop("session_index")].id
    sale_ids = list(
        (
            await db.execute(
                insert(_table(Sale)).returning(_table(Sale).c.id, sort_by_parameter_order=True), sale_rows
            )
        ).scalars()
    )
    await db.execute(
        insert(_table(SaleLine)),
        [
            {**line, "sale_id": sale_id}
            for sale_id, lines in zip(sale_ids, lines_for, strict=True)
            for line in lines
        ],
    )
    await db.execute(
        insert(_table(Tender)),
        [
            {**tender, "sale_id": sale_id, "position": position}
            for sale_id, tenders in zip(sale_ids, tenders_for, strict=True)
            for position, tender in enumerate(tenders)
        ],
    )
    movement_rows = [
        {**movement, "sale_id": sale_id}
        for sale_id, movements in zip(sale_ids, movements_for, strict=True)
        for movement in movements
    ]
    if movement_rows:
        await db.execute(insert(_table(PifMovement)), movement_rows)

    # Cash-ups and the ledger: each closed session's takings as the till would have posted them.
    closed = [s for s in session_rows if s.status == "closed"]
    figures = await takings_service.takings(db, [s.id for s in closed])
    names = {counter.id: counter.name, window.id: window.name}
    for index, session in enumerate(closed):
        t = figures[session.id]
        expected = t.expected_cash(session.float_pence)
        variance, reason = (0, "")
        if index % 9 == 4:
            variance, reason = VARIANCE_REASONS[(index // 9) % len(VARIANCE_REASONS)]
        counted_cash = expected + variance
        session.expected_cash_pence = expected
        session.counted_cash_pence = counted_cash
        session.variance_pence = variance
        session.variance_reason = reason
        session.counted = _denominations(counted_cash)
        journal_lines = [
            JournalLine(
                LedgerAccount(account),
                amount,
                stream=takings_service.STREAM if account in ("income", "vat") else None,
                vat_rate_bp=rate,
            )
            for (account, rate), amount in sorted(
                t.ledger().items(), key=lambda item: (item[0][0], item[0][1] or 0)
            )
        ]
        if journal_lines:
            post_journal(
                db,
                journal=f"cafe_session:{session.id}",
                entry_date=takings_service.local_day(settings, session),
                source_type=takings_service.SOURCE_TYPE,
                source_id=str(session.id),
                description=f"Café takings, {names[session.till_id]} session {session.id}",
                lines=journal_lines,
            )
    await db.commit()


def _denominations(pence: int) -> dict[str, int]:
    counted: dict[str, int] = {}
    for denomination in (5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        number, pence = divmod(pence, denomination)
        if number:
            counted[str(denomination)] = number
    return counted
