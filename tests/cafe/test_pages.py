"""The café pages through the real app: who may open them, and what a person reads on them."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from hub.auth import Identity
from hub.models import Role
from hub.schemas import convert_input
from tests.conftest import Hub


@pytest.mark.parametrize("role", [Role.CAFE, Role.CAFE_SUPERVISOR, Role.ADMIN])
def test_the_till_opens_for_cafe_staff_supervisors_and_admins(hub: Hub, role: Role) -> None:
    hub.login_as(role)
    page = hub.client.get("/till")
    assert page.status_code == 200
    assert '<meta name="csrf-token" content="' in page.text
    assert "/static/cafe/till.js" in page.text
    # The words a worker taps, not icons alone.
    for word in ("Take away", "Eat in", "Undo", "Cash", "Card", "Total"):
        assert word in page.text


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.TRUSTEE])
def test_the_till_is_not_for_the_desk_or_trustees(hub: Hub, role: Role) -> None:
    hub.login_as(role)
    assert hub.client.get("/till").status_code == 403


def test_signed_out_the_till_asks_to_sign_in(hub: Hub) -> None:
    response = hub.client.get("/till", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=/till")


def test_the_service_worker_may_look_after_the_till(hub: Hub) -> None:
    response = hub.client.get("/static/cafe/till-sw.js")
    assert response.status_code == 200
    assert response.headers["service-worker-allowed"] == "/till"
    assert "javascript" in response.headers["content-type"]


def test_cafe_staff_are_shown_the_way_to_the_till_from_home(hub: Hub) -> None:
    hub.login_as(Role.CAFE)
    html = hub.client.get("/").text
    assert 'href="/till"' in html


# --- the menu and the allergen sheet --------------------------------------------------------------

SYSTEM = Identity.system("test")


def make_product(hub: Hub, name: str = "Latte", **fields: Any) -> int:
    from cafe.schemas import CategoryIn, ProductIn
    from cafe.services import menu

    async def work(db: Any) -> int:
        category = await menu.create_category(
            db, SYSTEM, CategoryIn(name=fields.pop("category", "Hot drinks"))
        )
        data = {
            "category_id": category.id,
            "short_name": name,
            "price_pence": 280,
            "vat_kind": "hot",
            **fields,
        }
        return (await menu.create_product(db, SYSTEM, convert_input(data, ProductIn))).id

    return hub.run(work)


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_allergen_sheet_says_each_allergen_in_words(hub: Hub) -> None:
    make_product(hub, "Cheese toastie", allergens=["milk", "cereals_gluten"], vat_kind="hot")
    hub.login_as(Role.CAFE)
    page = hub.client.get("/till/allergens")
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Cheese toastie Contains: Cereals containing gluten, Milk" in text
    # All 14 named as column headings, and each cell a word, not a tick.
    for label in ("Celery", "Lupin", "Sulphur dioxide and sulphites", "Tree nuts", "Peanuts"):
        assert f'<th scope="col">{label}</th>' in page.text
    assert page.text.count('<td class="yes">Contains</td>') == 2
    assert page.text.count("<td>No</td>") == 12
    assert "data-print" in page.text and "/static/print.js" in page.text


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.CAFE, 403), (Role.CAFE_SUPERVISOR, 200), (Role.ADMIN, 200), (Role.RECEPTIONIST, 403)],
)
def test_the_menu_is_kept_by_supervisors(hub: Hub, role: Role, status: int) -> None:
    product_id = make_product(hub)
    hub.login_as(role)
    assert hub.client.get("/cafe/menu").status_code == status
    assert hub.client.get(f"/cafe/menu/{product_id}").status_code == status


def test_a_supervisor_stops_selling_an_item_and_the_till_sees_it(hub: Hub) -> None:
    product_id = make_product(hub, "Flapjack", vat_kind="standard")
    hub.login_as(Role.CAFE_SUPERVISOR)
    html = hub.client.get("/cafe/menu").text
    assert "Flapjack" in html and "On sale" in html
    response = hub.client.post(
        f"/cafe/menu/{product_id}/availability",
        data={"_csrf": csrf_of(html), "available": "no"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    html = hub.client.get("/cafe/menu").text
    assert "Not available" in html and "Sell again" in html


def test_cafe_staff_may_not_change_the_menu(hub: Hub) -> None:
    product_id = make_product(hub)
    hub.login_as(Role.CAFE)
    token = csrf_of(
        hub.client.get("/till").text.replace('meta name="csrf-token" content', 'name="_csrf" value')
    )
    response = hub.client.post(
        f"/cafe/menu/{product_id}/availability", data={"_csrf": token, "available": "no"}
    )
    assert response.status_code == 403


def test_bad_input_shows_the_product_form_again_with_each_fields_message(hub: Hub) -> None:
    product_id = make_product(hub)
    hub.login_as(Role.CAFE_SUPERVISOR)
    html = hub.client.get(f"/cafe/menu/{product_id}").text
    form = {
        "_csrf": csrf_of(html),
        "category_id": re.search(r'<option value="(\d+)" selected', html).group(1),  # type: ignore[union-attr]
        "short_name": "Latte",
        "price": "two pounds",
        "vat_kind": "hot",
        "sort_order": "0",
        "stock_count": "lots",
        "available": "yes",
    }
    response = hub.client.post(f"/cafe/menu/{product_id}", data=form)
    assert response.status_code == 422
    assert 'id="price-error"' in response.text and "Enter an amount in pounds" in response.text
    assert 'id="stock_count-error"' in response.text
    assert 'value="two pounds"' in response.text  # what was typed is kept
    # Nothing was written.
    html = hub.client.get(f"/cafe/menu/{product_id}").text
    assert 'value="2.80"' in html


def test_a_supervisor_changes_the_price_and_allergens(hub: Hub) -> None:
    product_id = make_product(hub)
    hub.login_as(Role.CAFE_SUPERVISOR)
    html = hub.client.get(f"/cafe/menu/{product_id}").text
    category = re.search(r'<option value="(\d+)" selected', html).group(1)  # type: ignore[union-attr]
    response = hub.client.post(
        f"/cafe/menu/{product_id}",
        data={
            "_csrf": csrf_of(html),
            "category_id": category,
            "short_name": "Oat latte",
            "price": "3.10",
            "vat_kind": "hot",
            "allergens": ["milk", "soya"],
            "available": "yes",
            "sort_order": "1",
            "stock_count": "",
            "low_stock_at": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    html = hub.client.get(f"/cafe/menu/{product_id}").text
    assert 'value="Oat latte"' in html and 'value="3.10"' in html
    assert 'value="soya" checked' in html and 'value="milk" checked' in html


def test_a_picture_that_is_not_an_image_is_refused_beside_the_upload(hub: Hub) -> None:
    product_id = make_product(hub)
    hub.login_as(Role.CAFE_SUPERVISOR)
    html = hub.client.get(f"/cafe/menu/{product_id}").text
    response = hub.client.post(
        f"/cafe/menu/{product_id}/picture",
        data={"_csrf": csrf_of(html)},
        files={"picture": ("cake.png", b"<html>not a picture</html>", "image/png")},
    )
    assert response.status_code == 422
    assert 'id="picture-error"' in response.text and "not a PNG, JPEG or WebP" in response.text
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    response = hub.client.post(
        f"/cafe/menu/{product_id}/picture",
        data={"_csrf": csrf_of(html)},
        files={"picture": ("cake.png", png, "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "/picture" in hub.client.get(f"/cafe/menu/{product_id}").text
