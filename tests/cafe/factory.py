"""A small café made through the real API, for the café's API tests (C1's; the page tests have
their own)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.models import Role
from tests.conftest import Hub


@dataclass
class Cafe:
    hub: Hub
    staff: dict[str, str]
    supervisor: dict[str, str]
    products: dict[str, int]
    modifiers: dict[str, int]
    counter: int
    window: int
    session: int  # open on the Counter
    extra: dict[str, Any] = field(default_factory=dict)

    def post(self, path: str, body: dict[str, Any], *, as_supervisor: bool = False) -> Any:
        return self.hub.client.post(path, json=body, headers=self.supervisor if as_supervisor else self.staff)

    def get(self, path: str, **params: Any) -> Any:
        return self.hub.client.get(path, params=params, headers=self.supervisor)

    def sale(
        self, lines: list[dict[str, Any]], tenders: list[dict[str, Any]] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "session_id": self.session,
            "till_id": self.counter,
            "rung_at": datetime.now(UTC).isoformat(),
            "lines": lines,
            "tenders": tenders or [],
        }
        body.update(fields)
        return body

    def line(self, name: str, quantity: int = 1, **fields: Any) -> dict[str, Any]:
        return {"product_id": self.products[name], "quantity": quantity, **fields}

    def ring(self, body: dict[str, Any]) -> Any:
        return self.post("/api/v1/cafe/sales", body)


PRODUCTS = [
    # name, category, price, vat_kind, extra
    (
        "Coffee",
        "Hot drinks",
        250,
        "hot",
        {"allergens": ["milk"], "pictogram": "coffee", "pay_it_forward_kind": "coffee"},
    ),
    ("Tea", "Hot drinks", 180, "hot", {"allergens": ["milk"], "pictogram": "tea"}),
    ("Sandwich", "Food", 395, "cold_food", {"allergens": ["cereals_gluten", "eggs", "mustard"]}),
    (
        "Cake",
        "Food",
        300,
        "cold_food",
        {"allergens": ["cereals_gluten", "eggs", "milk"], "stock_count": 5, "low_stock_at": 2},
    ),
    ("Soup", "Food", 450, "hot", {"allergens": ["celery"], "pay_it_forward_kind": "meal"}),
    ("Squash", "Cold drinks", 99, "standard", {}),
    ("Sold out pie", "Food", 500, "hot", {"available": False}),
]


def make_cafe(hub: Hub) -> Cafe:
    supervisor = hub.headers_for(Role.CAFE_SUPERVISOR)
    staff = hub.headers_for(Role.CAFE)
    client = hub.client
    categories: dict[str, int] = {}
    products: dict[str, int] = {}
    modifiers: dict[str, int] = {}
    for name, category, price, vat_kind, extra in PRODUCTS:
        if category not in categories:
            made = client.post("/api/v1/cafe/categories", json={"name": category}, headers=supervisor)
            assert made.status_code == 201, made.text
            categories[category] = made.json()["id"]
        body: dict[str, Any] = {
            "category_id": categories[category],
            "short_name": name,
            "price_pence": price,
            "vat_kind": vat_kind,
            **extra,
        }
        if name == "Coffee":
            body["modifiers"] = [
                {"name": "Oat milk", "price_pence": 30},
                {"name": "Extra shot", "price_pence": 50},
            ]
        if name == "Tea":
            body["modifiers"] = [{"name": "Lemon", "price_pence": 0}]
        made = client.post("/api/v1/cafe/products", json=body, headers=supervisor)
        assert made.status_code == 201, made.text
        products[name] = made.json()["id"]
        for modifier in made.json()["modifiers"]:
            modifiers[modifier["name"]] = modifier["id"]
    made = client.post(
        "/api/v1/cafe/discounts",
        json={"code": "volunteer", "label": "Volunteer", "percent_bp": 5000},
        headers=supervisor,
    )
    assert made.status_code == 201, made.text
    tills = {}
    for name in ("Counter", "Window"):
        made = client.post("/api/v1/cafe/tills", json={"name": name}, headers=supervisor)
        assert made.status_code == 201, made.text
        tills[name] = made.json()["id"]
    opened = client.post(
        "/api/v1/cafe/sessions", json={"till_id": tills["Counter"], "float_pence": 5000}, headers=supervisor
    )
    assert opened.status_code == 201, opened.text
    return Cafe(
        hub=hub,
        staff=staff,
        supervisor=supervisor,
        products=products,
        modifiers=modifiers,
        counter=tills["Counter"],
        window=tills["Window"],
        session=opened.json()["id"],
    )


def counted(pence: int) -> dict[str, int]:
    """A drawer holding exactly ``pence``, in the fewest notes and coins."""
    result: dict[str, int] = {}
    for denomination in (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        number, pence = divmod(pence, denomination)
        if number:
            result[str(denomination)] = number
    return result
