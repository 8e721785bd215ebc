"""The menu through the API: allergens in words, modifiers, availability, stock warnings, discounts,
pictures checked by their bytes, pictograms from the installed icon set."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from hub.models import Role
from tests.cafe.factory import make_cafe
from tests.conftest import Hub


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def problem_fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [error["field"] for error in response.json().get("errors", [])]


def test_the_menu_shows_allergens_in_words_modifiers_and_the_pool(hub: Hub) -> None:
    cafe = make_cafe(hub)
    menu = cafe.hub.client.get("/api/v1/cafe/menu", headers=cafe.staff).json()
    products = {p["short_name"]: p for c in menu["categories"] for p in c["products"]}
    assert products["Sandwich"]["allergens"] == ["cereals_gluten", "eggs", "mustard"]
    assert products["Sandwich"]["allergen_labels"] == ["Cereals containing gluten", "Eggs", "Mustard"]
    assert [m["name"] for m in products["Coffee"]["modifiers"]] == ["Oat milk", "Extra shot"]
    assert products["Coffee"]["pictogram_url"] == "/api/v1/cafe/pictograms/coffee.svg"
    assert products["Sold out pie"]["available"] is False
    assert menu["discounts"] == [
        {"code": "volunteer", "label": "Volunteer", "percent_bp": 5000, "active": True}
    ]
    assert menu["pay_it_forward"] == {
        "coffee": {"units": 0, "value_pence": 0},
        "meal": {"units": 0, "value_pence": 0},
    }


def test_an_unknown_allergen_or_pictogram_is_refused_naming_the_field(hub: Hub) -> None:
    cafe = make_cafe(hub)
    base = {"category_id": 1, "short_name": "Flapjack", "price_pence": 200, "vat_kind": "cold_food"}
    bad = cafe.post("/api/v1/cafe/products", {**base, "allergens": ["oats"]}, as_supervisor=True)
    assert bad.status_code == 400 and problem_fields(bad) == ["allergens[0]"]
    bad = cafe.post("/api/v1/cafe/products", {**base, "pictogram": "no-such-icon"}, as_supervisor=True)
    assert bad.status_code == 422 and problem_fields(bad) == ["pictogram"]
    bad = cafe.post("/api/v1/cafe/products", {**base, "price_pence": -1}, as_supervisor=True)
    assert bad.status_code == 400 and problem_fields(bad) == ["price_pence"]
    names = [p["short_name"] for p in cafe.get("/api/v1/cafe/products").json()]
    assert "Flapjack" not in names


def test_stock_goes_down_with_sales_and_warns_when_low(hub: Hub) -> None:
    cafe = make_cafe(hub)
    sold = cafe.ring(cafe.sale([cafe.line("Cake", 3)], [{"method": "card", "amount_pence": 900}]))
    assert sold.status_code == 201, sold.text
    cake = cafe.get(f"/api/v1/cafe/products/{cafe.products['Cake']}").json()
    assert (cake["stock_count"], cake["low_stock"]) == (2, True)


def test_availability_toggle_and_modifier_changes_keep_old_modifiers_retired(hub: Hub) -> None:
    cafe = make_cafe(hub)
    coffee = cafe.products["Coffee"]
    changed = cafe.hub.client.patch(
        f"/api/v1/cafe/products/{coffee}",
        json={
            "available": False,
            "modifiers": [{"id": cafe.modifiers["Oat milk"], "name": "Oat milk", "price_pence": 35}],
        },
        headers=cafe.supervisor,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["available"] is False
    assert changed.json()["modifiers"] == [
        {"id": cafe.modifiers["Oat milk"], "name": "Oat milk", "price_pence": 35}
    ]


def test_staff_cannot_change_the_menu(hub: Hub) -> None:
    cafe = make_cafe(hub)
    refused = cafe.hub.client.patch(
        f"/api/v1/cafe/products/{cafe.products['Tea']}", json={"price_pence": 1}, headers=cafe.staff
    )
    assert refused.status_code == 403
    assert cafe.get(f"/api/v1/cafe/products/{cafe.products['Tea']}").json()["price_pence"] == 180


def test_a_png_picture_is_kept_under_a_random_name_and_served(hub: Hub, tmp_path: Any) -> None:
    cafe = make_cafe(hub)
    product = cafe.products["Cake"]
    png = tiny_png()
    sent = cafe.hub.client.put(
        f"/api/v1/cafe/products/{product}/picture",
        files={"picture": ("cake.png", png, "image/png")},
        headers=cafe.supervisor,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["picture_url"] == f"/api/v1/cafe/products/{product}/picture"
    served = cafe.hub.client.get(f"/api/v1/cafe/products/{product}/picture", headers=cafe.staff)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == png
    settings = cafe.hub.client.app.state.settings
    stored = list((settings.data_dir / "cafe").glob("*.png"))
    assert any(path.read_bytes() == png and path.name != "cake.png" for path in stored)


def test_a_picture_that_is_not_an_image_is_refused_and_nothing_changes(hub: Hub) -> None:
    cafe = make_cafe(hub)
    product = cafe.products["Tea"]
    for content in (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", b"GIF89a....", b"%PDF-1.7", b""):
        refused = cafe.hub.client.put(
            f"/api/v1/cafe/products/{product}/picture",
            content=content,
            headers={**cafe.supervisor, "content-type": "image/png"},
        )
        assert refused.status_code == 422, refused.text
        assert problem_fields(refused) == ["picture"]
    assert cafe.get(f"/api/v1/cafe/products/{product}").json()["picture_url"] is None


def test_a_picture_over_the_size_limit_is_refused(hub: Hub) -> None:
    cafe = make_cafe(hub)
    limit = cafe.hub.client.app.state.settings.cafe_picture_max_bytes
    big = b"\xff\xd8\xff\xe0" + b"\x00" * limit
    refused = cafe.hub.client.put(
        f"/api/v1/cafe/products/{cafe.products['Tea']}/picture", content=big, headers=cafe.supervisor
    )
    assert refused.status_code == 422 and problem_fields(refused) == ["picture"]


def test_pictograms_come_from_the_installed_icon_set(hub: Hub) -> None:
    staff = hub.headers_for(Role.CAFE)
    names = hub.client.get("/api/v1/cafe/pictograms", headers=staff).json()
    assert {"coffee", "tea", "cupcake", "baguette", "bowl-mix"} <= set(names)
    svg = hub.client.get("/api/v1/cafe/pictograms/coffee.svg", headers=staff)
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "<path" in svg.text
    assert hub.client.get("/api/v1/cafe/pictograms/nonesuch.svg", headers=staff).status_code == 404


def test_discounts_are_configurable(hub: Hub) -> None:
    cafe = make_cafe(hub)
    made = cafe.post(
        "/api/v1/cafe/discounts", {"code": "staff", "label": "Staff", "percent_bp": 2500}, as_supervisor=True
    )
    assert made.status_code == 201
    again = cafe.post(
        "/api/v1/cafe/discounts", {"code": "staff", "label": "Staff", "percent_bp": 1}, as_supervisor=True
    )
    assert again.status_code == 409 and problem_fields(again) == ["code"]
    off = cafe.hub.client.patch(
        "/api/v1/cafe/discounts/staff", json={"active": False}, headers=cafe.supervisor
    )
    assert off.json()["active"] is False
    codes = [
        d["code"] for d in cafe.hub.client.get("/api/v1/cafe/menu", headers=cafe.staff).json()["discounts"]
    ]
    assert codes == ["volunteer"]
